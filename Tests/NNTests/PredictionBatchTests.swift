import LetheTesting
import Tensor
import Testing

@testable import NN

/// A sample's prediction is the same bits whatever batch it comes in and wherever in it (engine 5: fully connected
/// products in fixed blocks of rows), so predictions made in different batches, by different runs or workers,
/// combine into the bits of one pass; in evaluation mode (ahead of an input gradient) as in inference.
struct PredictionBatchTests {
    @Test(arguments: ["fmnist-cnn", "fmnist-mlp"])
    func aSamplesPredictionDoesNotDependOnItsBatch(architecture: String) throws {
        let model = try ModelSpec.build(architecture, seed: 3)
        var generator = SeededGenerator(seed: 5)
        let input = Tensor.uniform(shape: [70, 1, 28, 28], in: -1..<1, using: &generator)
        let whole = model.forward(input, mode: .inference)
        #expect(BitHash.of([model.forward(input, mode: .eval)]) == BitHash.of([whole]))
        for range in [0..<1, 3..<19, 17..<70, 69..<70, 5..<38] {
            let part = input.slice(rows: range)
            #expect(
                BitHash.of([model.forward(part, mode: .inference)]) == BitHash.of([whole.slice(rows: range)]),
                "\(architecture) \(range)")
        }
    }
}
