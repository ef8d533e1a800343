import LetheTesting
import NN
import Tensor
import Testing

/// Intermediate outputs (feature distillation) and gradients with respect to inputs (UNSIR).
struct FeatureTapTests {
    func random(_ shape: [Int], seed: UInt64) -> Tensor {
        var generator = SeededGenerator(seed: seed)
        return Tensor.uniform(shape: shape, in: -1..<1, using: &generator)
    }

    @Test func tapRecordsNamedOutputsAtAnyDepth() {
        let model = ModelZoo.resnet18(seed: 1, width: 2, classes: 3, inputShape: [1, 8, 8])
        let tap = FeatureTap(paths: ["conv1", "layer1", "layer2.0", "layer2.0.conv1", "layer3.1.bn2"])
        let logits = model.forward(random([2, 1, 8, 8], seed: 1), mode: .eval, tap: tap)
        #expect(logits.shape == [2, 3])
        #expect(tap.features["conv1"]?.shape == [2, 2, 8, 8])
        #expect(tap.features["layer1"]?.shape == [2, 2, 8, 8])
        #expect(tap.features["layer2.0"]?.shape == [2, 4, 4, 4])
        #expect(tap.features["layer2.0.conv1"]?.shape == [2, 4, 4, 4])
        #expect(tap.features["layer3.1.bn2"]?.shape == [2, 8, 2, 2])
    }

    /// Injecting R at conv2's output with a zero logits gradient equals back-propagating R by hand through
    /// the layers below conv2, to the bit.
    @Test func injectedGradientFlowsFromThatLayerDown() {
        let model = ModelZoo.fmnistCNN(seed: 2)
        let input = random([2, 1, 28, 28], seed: 3)
        let tap = FeatureTap(paths: ["conv2"])
        let logits = model.forward(input, mode: .eval, tap: tap)
        let injected = random(tap.features["conv2"]!.shape, seed: 4)
        tap.gradients["conv2"] = injected
        model.zeroGradients()
        model.backward(Tensor(zeros: logits.shape), tap: tap)
        let viaTap = BitHash.of(model.namedParameters.prefix(4).map(\.parameter.grad))

        let below = model.root.children.prefix(4).map(\.layer)  // conv1, ReLU, MaxPool2d, conv2
        var x = input
        for layer in below { x = layer.forward(x, mode: .eval) }
        #expect(BitHash.of([x]) == BitHash.of([tap.features["conv2"]!]))
        model.zeroGradients()
        var gradient = injected
        for layer in below.reversed() { gradient = layer.backward(gradient) }
        #expect(viaTap == BitHash.of(model.namedParameters.prefix(4).map(\.parameter.grad)))
        #expect(model.namedParameters[0].parameter.grad.squaredNorm() > 0)
    }

    @Test func inputGradientOnlyWhenAsked() {
        let model = ModelZoo.fmnistCNN(seed: 5)
        let input = random([3, 1, 28, 28], seed: 6)
        let labels = [1, 4, 9]
        func lossGradient() -> Tensor {
            crossEntropy(logits: model.forward(input, mode: .eval), labels: labels).gradient
        }
        #expect(model.backward(lossGradient()).count == 0)
        let inputGradient = model.backward(lossGradient(), inputGradient: true)
        #expect(inputGradient.shape == input.shape)
        let step: Float = 1e-3
        for index in [10, 400, 1500] {
            var shifted = input
            shifted.scalars[index] += step
            let plus = Double(crossEntropy(logits: model.forward(shifted, mode: .eval), labels: labels).value)
            shifted.scalars[index] -= 2 * step
            let minus = Double(crossEntropy(logits: model.forward(shifted, mode: .eval), labels: labels).value)
            let numeric = Float((plus - minus) / Double(2 * step))
            #expect(abs(numeric - inputGradient.scalars[index]) <= 2e-2 * max(1e-2, abs(numeric)), "input[\(index)]")
        }
    }
}
