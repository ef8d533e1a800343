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
