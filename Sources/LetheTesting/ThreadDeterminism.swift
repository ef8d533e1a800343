import NN
import Tensor

/// A hash of the gradients and updated weights of two SGD steps of a freshly built model on a fixed seeded batch,
/// computed on `threads` threads: equal hashes for different thread counts are the engine's determinism (DESIGN §4).
public func trainingBits(threads: Int, batch: Int, build: () throws -> Model) rethrows -> String {
    Parallel.configure(threads: threads)
    defer { Parallel.configure(threads: nil) }
    let model = try build()
    var generator = SeededGenerator(seed: 5)
    let images = Tensor.normal(shape: [batch] + model.inputShape, using: &generator)
    let labels = (0..<batch).map { _ in generator.nextInt(below: model.classCount) }
    let optimizer = SGD(learningRate: 0.05, momentum: 0.9, weightDecay: 5e-4)
    var tensors: [Tensor] = []
    for _ in 0..<2 {
        model.zeroGradients()
        model.backward(crossEntropy(logits: model.forward(images, mode: .train()), labels: labels).gradient)
        tensors += model.namedParameters.map(\.parameter.grad)
        optimizer.update(model: model)
    }
    return BitHash.of(tensors + model.stateDict().map(\.tensor))
}
