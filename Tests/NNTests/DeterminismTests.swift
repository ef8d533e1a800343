import LetheTesting
import NN
import Tensor
import Testing

/// Same inputs ⇒ same bits, whatever the thread count (DESIGN §4).
@Suite(.serialized)
struct DeterminismTests {
    /// A hash of the gradients and updated weights of two SGD steps of `model` on a fixed batch.
    func trainingBits(threads: Int, build: () -> Model, batch: Int) -> String {
        Parallel.configure(threads: threads)
        defer { Parallel.configure(threads: nil) }
        let model = build()
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

    @Test func fmnistCNNIsBitIdenticalOnOneAndTwoThreads() {
        let build = { ModelZoo.fmnistCNN(seed: 3) }
        #expect(trainingBits(threads: 1, build: build, batch: 40) == trainingBits(threads: 2, build: build, batch: 40))
    }

    @Test func resnetIsBitIdenticalOnOneAndTwoThreads() {
        let build = { ModelZoo.resnet18(seed: 4, width: 4, inputShape: [3, 16, 16]) }
        #expect(trainingBits(threads: 1, build: build, batch: 12) == trainingBits(threads: 2, build: build, batch: 12))
    }

    @Test func sameSeedSameInitialisation() {
        let hash = { (seed: UInt64) in BitHash.of(ModelZoo.fmnistCNN(seed: seed).stateDict().map(\.tensor)) }
        #expect(hash(9) == hash(9))
        #expect(hash(9) != hash(10))
    }
}
