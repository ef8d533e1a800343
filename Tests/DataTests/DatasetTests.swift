import Data
import LetheTesting
import Tensor
import Testing

/// The in-memory dataset helpers.
struct DatasetTests {
    /// Five 1×1×2 images whose pixels encode their index: image i is [i, 10 + i].
    let dataset = Dataset(
        name: "toy",
        images: Tensor(shape: [5, 1, 1, 2], scalars: (0..<5).flatMap { [Float($0), Float(10 + $0)] }),
        labels: [2, 0, 1, 2, 0],
        classCount: 3)

    @Test func basics() {
        #expect(dataset.count == 5)
        #expect(dataset.imageShape == [1, 1, 2])
        #expect(dataset.classCounts == [2, 1, 2])
        #expect(dataset.description.contains("5 images"))
    }

    @Test func subsetKeepsTheGivenOrder() {
        let subset = dataset.subset(indices: [4, 0, 2])
        #expect(subset.count == 3)
        #expect(subset.labels == [0, 2, 1])
        #expect(subset.classCount == 3)
        #expect(subset.name == "toy")
        #expect(Tolerance.mismatch(subset.images, Tensor(shape: [3, 1, 1, 2], scalars: [4, 14, 0, 10, 2, 12])) == nil)
    }

    @Test func classIndices() {
        #expect(dataset.indices(ofClasses: [2]) == [0, 3])
        #expect(dataset.indices(ofClasses: Set([0, 1])) == [1, 2, 4])
        #expect(dataset.indices(ofClasses: [7]) == [])
        #expect(dataset.indices(excludingClasses: [2]) == [1, 2, 4])
    }

    @Test func batch() {
        let batch = dataset.batch(indices: [3, 1])
        #expect(batch.labels == [2, 0])
        #expect(batch.images.shape == [2, 1, 1, 2])
        #expect(Tolerance.mismatch(batch.images, Tensor(shape: [2, 1, 1, 2], scalars: [3, 13, 1, 11])) == nil)
    }
}
