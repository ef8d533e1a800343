import Data
import Foundation
import Tensor
import Testing

/// Images held as uint8 pixels give the floats the normalisation's formula gives, whichever way they are taken.
struct DatasetImagesTests {
    static let mean: [Float] = [0.1, 0.5, 0.9]
    static let std: [Float] = [0.3, 0.25, 0.7]

    /// Five 3 × 2 × 2 images, each record a 3-byte prefix, the 12 pixels and 2 trailing bytes, after a 5-byte header.
    static func pixels() -> (bytes: [UInt8], images: DatasetImages) {
        var generator = SeededGenerator(seed: 4, stream: "pixels")
        let bytes = (0..<(5 + 5 * 17)).map { _ in UInt8(generator.next() % 256) }
        let images = DatasetImages(
            pixels: bytes, offset: 5 + 3, recordStride: 17, count: 5, channels: 3, height: 2, width: 2, mean: mean,
            std: std)
        return (bytes, images)
    }

    /// Image `n`'s floats by the formula, pixel by pixel.
    static func expected(_ bytes: [UInt8], _ n: Int) -> [Float] {
        (0..<12).map { p in (Float(bytes[5 + 3 + n * 17 + p]) / 255 - mean[p / 4]) / std[p / 4] }
    }

    static func bits(_ values: [Float]) -> [UInt32] { values.map(\.bitPattern) }

    @Test func rowsAreTheFormulasFloats() {
        let (bytes, images) = Self.pixels()
        #expect(images.heldAsPixels && images.shape == [5, 3, 2, 2] && images.imageSize == 12)
        let rows = images.rows([4, 0, 4])
        #expect(rows.shape == [3, 3, 2, 2])
        #expect(
            Self.bits(rows.scalars)
                == Self.bits(Self.expected(bytes, 4) + Self.expected(bytes, 0) + Self.expected(bytes, 4)))
        #expect(Self.bits(images.tensor.scalars) == Self.bits((0..<5).flatMap { Self.expected(bytes, $0) }))
    }

    @Test func subsetsStayPixels() {
        let (bytes, images) = Self.pixels()
        let subset = images.subset([3, 1])
        #expect(subset.heldAsPixels && subset.shape == [2, 3, 2, 2])
        #expect(Self.bits(subset.tensor.scalars) == Self.bits(Self.expected(bytes, 3) + Self.expected(bytes, 1)))
        #expect(Self.bits(subset.rows([1]).scalars) == Self.bits(Self.expected(bytes, 1)))
    }

    @Test func concatenatingKeepsEveryValue() {
        let (_, images) = Self.pixels()
        let all = images.tensor
        let joined = DatasetImages.concatenating([images.subset([0, 1]), images.subset([2, 3, 4])])
        #expect(joined.heldAsPixels && joined.shape == [5, 3, 2, 2])
        #expect(Self.bits(joined.tensor.scalars) == Self.bits(all.scalars))
        // A part held as floats: the result holds floats, with the same values.
        let mixed = DatasetImages.concatenating([images.subset([0, 1]), DatasetImages(all.slice(rows: 2..<5))])
        #expect(!mixed.heldAsPixels)
        #expect(Self.bits(mixed.tensor.scalars) == Self.bits(all.scalars))
        // Another normalisation: floats, each part read with its own.
        let (bytes, _) = Self.pixels()
        let other = DatasetImages(
            pixels: bytes, offset: 8, recordStride: 17, count: 5, channels: 3, height: 2, width: 2, mean: [0, 0, 0],
            std: [1, 1, 1])
        let differently = DatasetImages.concatenating([images, other])
        #expect(!differently.heldAsPixels && differently.count == 10)
        #expect(
            Self.bits(differently.rows([0, 5]).scalars) == Self.bits(images.rows([0]).scalars + other.rows([0]).scalars)
        )
    }

    @Test func datasetsTakeBatchesAndSubsetsFromPixels() {
        let (bytes, images) = Self.pixels()
        let dataset = Dataset(name: "p", images: images, labels: [0, 1, 2, 0, 1], classCount: 3)
        #expect(dataset.imageShape == [3, 2, 2])
        let batch = dataset.batch(indices: [2, 2])
        #expect(batch.labels == [2, 2])
        #expect(Self.bits(batch.images.scalars) == Self.bits(Self.expected(bytes, 2) + Self.expected(bytes, 2)))
        let subset = dataset.subset(indices: [4])
        #expect(subset.storedImages.heldAsPixels && subset.labels == [1])
        #expect(Self.bits(subset.images.scalars) == Self.bits(Self.expected(bytes, 4)))
    }
}
