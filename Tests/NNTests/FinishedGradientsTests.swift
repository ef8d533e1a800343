import LetheTesting
import NN
import Tensor
import Testing

/// `Model.backward` reports each layer's parameters as soon as their gradients are final (workers send them on
/// while the rest of the pass computes): every trainable parameter once, last layer first, with the bits it ends
/// with.
struct FinishedGradientsTests {
    @Test(arguments: ["fmnist-cnn", "resnet18:width=2,classes=3,channels=1,size=8"])
    func eachParameterIsReportedOnceWithItsFinalGradient(spec: String) throws {
        let model = try ModelSpec.build(spec, seed: 1)
        var generator = SeededGenerator(seed: 2)
        let input = Tensor.uniform(shape: [3] + model.inputShape, in: -1..<1, using: &generator)
        let names = Dictionary(
            uniqueKeysWithValues: model.namedParameters.map { (ObjectIdentifier($0.parameter), $0.name) })
        let logits = model.forward(input, mode: ForwardMode(isTraining: true, seed: 3))
        model.zeroGradients()
        var reported: [(name: String, digest: String)] = []
        model.backward(crossEntropy(logits: logits, labels: [0, 1, 2]).gradient) { parameters in
            reported += parameters.map { (names[ObjectIdentifier($0)]!, BitHash.of([$0.grad])) }
        }
        let final = model.namedParameters.map { (name: $0.name, digest: BitHash.of([$0.parameter.grad])) }
        #expect(Set(reported.map(\.name)) == Set(final.map(\.name)))
        #expect(reported.count == final.count)
        for (name, digest) in final {
            #expect(reported.first { $0.name == name }?.digest == digest, "\(name) changed after it was reported")
        }
        // Last layer first: the order is the reverse of the layers' (parameters within a layer keep theirs).
        let layerOrder = final.map { $0.name.split(separator: ".").dropLast().joined(separator: ".") }
        let reportedLayers = reported.map { $0.name.split(separator: ".").dropLast().joined(separator: ".") }
        #expect(reportedLayers.first == layerOrder.last)
        #expect(reportedLayers.last == layerOrder.first)
        #expect(model.namedParameters.allSatisfy { $0.parameter.grad.squaredNorm() > 0 })
    }
}
