import LetheTesting
import NN
import Tensor
import Testing

/// A graph model's intermediate values are reachable by name (feature distillation, attention transfer): a tap
/// records them and gradients injected there reach the weights before them.
@Suite struct GraphFeatureTapTests {
    let path = "/Sigmoid_output_0"  // sigmoid(leaky_relu(bn(fc1(x))) @ W + b) in the exported MLP

    @Test func everyComputedValueIsALayerPath() throws {
        let model = try ONNXFixtures.model("mlp.onnx")
        #expect(model.layerPaths.first == "/Reshape_output_0")
        #expect(model.layerPaths.contains(path))
        #expect(model.layerPaths.last == "output")
    }

    @Test func aTapRecordsAValueAndItsInjectedGradientReachesEarlierWeights() throws {
        let model = try ONNXFixtures.model("mlp.onnx")
        var generator = SeededGenerator(seed: 9)
        let x = Tensor.normal(shape: [4, 1, 8, 8], using: &generator)
        let tap = FeatureTap(paths: [path])
        let logits = model.forward(x, mode: .eval, tap: tap)
        let feature = try #require(tap.features[path])
        #expect(feature.shape == [4, 12] && feature.scalars.allSatisfy { $0 > 0 && $0 < 1 })
        // L = Σ g ⊙ feature: inject g there, nothing at the logits.
        let g = Tensor.uniform(shape: feature.shape, in: -1..<1, using: &generator)
        tap.gradients[path] = g
        model.zeroGradients()
        model.backward(Tensor(zeros: logits.shape), tap: tap)
        let weight = try #require(model.namedParameters.first { $0.name == "fc1.weight" }?.parameter)
        let fc2 = try #require(model.namedParameters.first { $0.name == "fc2.weight" }?.parameter)
        #expect(fc2.grad.scalars.allSatisfy { $0 == 0 }, "nothing flows to weights after the tapped value")
        func loss() -> Double {
            let probe = FeatureTap(paths: [path])
            _ = model.forward(x, mode: .eval, tap: probe)
            return zip(probe.features[path]!.scalars, g.scalars).reduce(0) { $0 + Double($1.0) * Double($1.1) }
        }
        for index in [0, 77, 500] {
            let original = weight.value.scalars[index]
            weight.value.scalars[index] = original + 1e-2
            let plus = loss()
            weight.value.scalars[index] = original - 1e-2
            let minus = loss()
            weight.value.scalars[index] = original
            let numeric = Float((plus - minus) / 2e-2)
            #expect(
                Tolerance.isClose(weight.grad.scalars[index], numeric, relative: 2e-2, absolute: 1e-3),
                "fc1.weight[\(index)]: \(weight.grad.scalars[index]) vs \(numeric)")
        }
    }
}
