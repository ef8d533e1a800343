import NN
import Tensor
import Testing

/// Inference's max pooling (no positions kept) takes the same element as a pass that keeps them: same bits for
/// ties, signed zeros and NaNs.
struct PoolingInferenceTests {
    @Test func inferencePoolingGivesTheBitsOfTrainingPooling() {
        var generator = SeededGenerator(seed: 11)
        var input = Tensor.normal(shape: [3, 4, 10, 12], using: &generator)
        input.withUnsafeMutableBufferPointer { x in
            x[0] = 0
            x[1] = -0.0
            x[12] = -0.0
            x[13] = 0  // a window of signed zeros: the first is taken
            x[40] = .nan
            x[41] = 5  // a NaN once seen is kept
            x[122] = 3
            x[123] = 3  // ties
        }
        let pool = MaxPool2d(kernel: 2)
        let kept = pool.forward(input, mode: .eval)
        let inferred = pool.forward(input, mode: .inference)
        #expect(inferred.shape == kept.shape)
        #expect(inferred.scalars.map(\.bitPattern) == kept.scalars.map(\.bitPattern))
    }
}

/// Inference pools before the ReLU that precedes a max-pool (relu(max) = max(relu), a quarter of the ReLU work):
/// the logits are the bits of a pass that keeps activations, and a tapped ReLU keeps its order and its features.
struct ReLUPoolingOrderTests {
    @Test func inferenceLogitsAreTheBitsOfAPassThatKeepsActivations() {
        let model = ModelZoo.fmnistCNN(seed: 3)
        var generator = SeededGenerator(seed: 5)
        let images = Tensor.normal(shape: [20, 1, 28, 28], using: &generator)
        let kept = model.forward(images, mode: .eval)
        let inferred = model.forward(images, mode: .inference)
        #expect(inferred.scalars.map(\.bitPattern) == kept.scalars.map(\.bitPattern))

        let relu = ReLU()
        let block = Sequential([(name: "act", layer: relu), (name: "pool", layer: MaxPool2d(kernel: 2))])
        let tap = FeatureTap(paths: ["act", "pool"])
        let input = Tensor.normal(shape: [2, 3, 6, 6], using: &generator)
        let model2 = Model(architecture: "probe", inputShape: [3, 6, 6], classCount: 1, root: block)
        let pooled = model2.forward(input, mode: .inference, tap: tap)
        #expect(tap.features["act"]?.shape == [2, 3, 6, 6] && tap.features["pool"]?.shape == [2, 3, 3, 3])
        #expect(pooled.scalars.map(\.bitPattern) == tap.features["pool"]?.scalars.map(\.bitPattern))
        #expect(pooled.scalars.allSatisfy { $0 >= 0 })
    }
}
