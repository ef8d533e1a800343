import Data
import LetheTesting
import Tensor
import Testing

/// Regression data: `.npy` float labels as targets, tables as [N, 1, 1, D] rows, the rotated-FashionMNIST task.
struct RegressionDataTests {
    @Test func floatLabelsMakeARegressionDatasetAndTablesReadAsRows() throws {
        let directory = try TempDirectory()
        let features: [Float] = (0..<(3 * 4)).map { Float($0) * 0.5 }
        let images = try directory.write("images.npy", npy(descr: "<f4", shape: [3, 4], data: littleEndian(features)))
        let targets = try directory.write(
            "labels.npy", npy(descr: "<f8", shape: [3, 2], data: littleEndian([1.5, -2, 0.25, 4, 8, -0.5])))
        let dataset = try NPYReader.read(images: images, labels: targets, name: "table")
        #expect(dataset.images.shape == [3, 1, 1, 4])
        #expect(dataset.isRegression)
        #expect(dataset.targets?.shape == [3, 2])
        #expect(
            Tolerance.mismatch(
                try #require(dataset.targets), Tensor(shape: [3, 2], scalars: [1.5, -2, 0.25, 4, 8, -0.5])) == nil)
        #expect(dataset.labels == [0, 0, 0])
        // Subsets keep the targets of the samples they keep.
        #expect(dataset.subset(indices: [2, 0]).targets?.scalars == [8, -0.5, 1.5, -2])
    }

    @Test func nonFiniteTargetsAndCountMismatchesAreRefused() throws {
        let directory = try TempDirectory()
        let images = try directory.write(
            "images.npy", npy(descr: "<f4", shape: [2, 3], data: littleEndian([Float](repeating: 0, count: 6))))
        let nan = try directory.write("nan.npy", npy(descr: "<f4", shape: [2], data: littleEndian([Float(1), .nan])))
        #expect(throws: DatasetError.nonFiniteTarget(path: nan, index: 1)) {
            try NPYReader.read(images: images, labels: nan, name: "bad")
        }
        let three = try directory.write(
            "three.npy", npy(descr: "<f4", shape: [3], data: littleEndian([Float(1), 2, 3])))
        #expect(throws: DatasetError.countMismatch(imagesPath: images, images: 2, labelsPath: three, labels: 3)) {
            try NPYReader.read(images: images, labels: three, name: "bad")
        }
    }

    @Test func rotationTurnsImagesAboutTheirCentre() {
        // A 3×3 image with one bright pixel right of centre: a quarter turn counter-clockwise puts it above.
        let image = Tensor(shape: [1, 1, 3, 3], scalars: [0, 0, 0, 0, 0, 1, 0, 0, 0])
        let turned = RotationTask.rotated(image, byDegrees: [90], background: 0)
        #expect(
            Tolerance.mismatch(
                turned, Tensor(shape: [1, 1, 3, 3], scalars: [0, 1, 0, 0, 0, 0, 0, 0, 0]), absolute: 1e-5) == nil)
        let still = RotationTask.rotated(image, byDegrees: [0], background: 0)
        #expect(Tolerance.mismatch(still, image) == nil)
    }

    @Test func rotationTaskIsSeededAndKeepsGarmentsAsLabels() {
        let source = Dataset(
            name: "src", images: Tensor(repeating: 0.5, shape: [50, 1, 4, 4]), labels: Array(repeating: 3, count: 50),
            classCount: 10)
        let first = RotationTask.derive(from: source, split: .train, name: "rot")
        let again = RotationTask.derive(from: source, split: .train, name: "rot")
        let test = RotationTask.derive(from: source, split: .test, name: "rot")
        let targets = first.targets!.scalars
        #expect(targets == again.targets!.scalars)
        #expect(targets != test.targets!.scalars)
        #expect(targets.allSatisfy { $0 >= -1 && $0 < 1 })
        #expect(first.labels == source.labels)
        #expect(first.targets?.shape == [50, 1])
    }
}
