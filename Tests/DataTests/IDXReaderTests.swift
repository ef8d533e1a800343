import Data
import LetheTesting
import Testing

/// MNIST-style IDX files, raw and gzip-compressed.
struct IDXReaderTests {
    let count = 3
    let height = 2
    let width = 3
    var pixels: [UInt8] { pixelPattern(count * height * width) }
    let labels: [UInt8] = [0, 9, 4]

    /// Writes an images/labels pair and returns their paths.
    func writePair(
        _ directory: TempDirectory, images: [UInt8]? = nil, labels: [UInt8]? = nil, gzip: Bool = false
    ) throws -> (images: String, labels: String) {
        let imageBytes = images ?? idxImages(count: count, height: height, width: width, pixels: pixels)
        let labelBytes = labels ?? idxLabels(self.labels)
        let suffix = gzip ? ".gz" : ""
        return (
            try directory.write("train-images-idx3-ubyte" + suffix, gzip ? compress(imageBytes) : imageBytes),
            try directory.write("train-labels-idx1-ubyte" + suffix, gzip ? compress(labelBytes) : labelBytes)
        )
    }

    func expectPixels(_ dataset: Dataset, mean: Float, std: Float) {
        #expect(dataset.images.shape == [count, 1, height, width])
        #expect(dataset.labels == [0, 9, 4])
        #expect(dataset.classCount == 10)
        for (i, byte) in pixels.enumerated() {
            let expected = (Float(byte) / 255 - mean) / std
            #expect(Tolerance.isClose(dataset.images.scalars[i], expected), "pixel \(i)")
        }
    }

    @Test(arguments: [false, true])
    func readsRawAndGzip(gzip: Bool) throws {
        let directory = try TempDirectory()
        let paths = try writePair(directory, gzip: gzip)
        let dataset = try IDXReader.read(
            images: paths.images, labels: paths.labels, name: "tiny", normalization: .fashionMNIST)
        #expect(dataset.name == "tiny")
        expectPixels(dataset, mean: 0.2860, std: 0.3530)
        // Spot-check the extremes explicitly: 0 and 255.
        #expect(Tolerance.isClose(dataset.images.scalars[0], -0.2860 / 0.3530))
        #expect(Tolerance.isClose(dataset.images.scalars[1], (1 - 0.2860) / 0.3530))
    }

    @Test func identityNormalizationGivesUnitRange() throws {
        let directory = try TempDirectory()
        let paths = try writePair(directory)
        let images = try IDXReader.readImages(paths.images, normalization: .identity).tensor
        #expect(images.scalars.allSatisfy { $0 >= 0 && $0 <= 1 })
        #expect(Tolerance.isClose(images.scalars[1], 1))
    }

    @Test func labelsFileAsImagesIsBadMagic() throws {
        let directory = try TempDirectory()
        let paths = try writePair(directory)
        expectError(.badMagic, mentioning: ["train-labels-idx1-ubyte", "0x00000803", "labels file"]) {
            try IDXReader.readImages(paths.labels, normalization: .identity)
        }
        expectError(.badMagic, mentioning: ["train-images-idx3-ubyte", "0x00000801"]) {
            try IDXReader.readLabels(paths.images, classCount: 10)
        }
        let garbage = try directory.write("garbage", Array("hello, world".utf8))
        expectError(.badMagic, mentioning: ["garbage"]) { try IDXReader.readImages(garbage, normalization: .identity) }
    }

    @Test func truncatedFiles() throws {
        let directory = try TempDirectory()
        let full = idxImages(count: count, height: height, width: width, pixels: pixels)
        let cut = try directory.write("cut-images", Array(full.dropLast(5)))
        expectError(.truncated, mentioning: ["cut-images", "expected \(full.count) bytes", "\(full.count - 5)"]) {
            try IDXReader.readImages(cut, normalization: .identity)
        }
        let headerOnly = try directory.write("header-only", Array(full.prefix(10)))
        expectError(.truncated, mentioning: ["header-only"]) {
            try IDXReader.readImages(headerOnly, normalization: .identity)
        }
        let tiny = try directory.write("tiny", [0, 0])
        expectError(.truncated) { try IDXReader.readLabels(tiny, classCount: 10) }
        // A truncated gzip file fails in decompression, still naming the file.
        let cutGzip = try directory.write("cut.gz", Array(compress(full).dropLast(10)))
        expectError(.decompression, mentioning: ["cut.gz", "truncated"]) {
            try IDXReader.readImages(cutGzip, normalization: .identity)
        }
    }

    @Test func trailingBytesAreASizeMismatch() throws {
        let directory = try TempDirectory()
        let long = try directory.write("long", idxLabels(labels) + [1, 2])
        expectError(.sizeMismatch, mentioning: ["long", "2 extra"]) { try IDXReader.readLabels(long, classCount: 10) }
    }

    @Test func countMismatch() throws {
        let directory = try TempDirectory()
        let paths = try writePair(directory, labels: idxLabels([1, 2]))
        expectError(.countMismatch, mentioning: ["3 images", "2 labels", "train-labels-idx1-ubyte"]) {
            try IDXReader.read(images: paths.images, labels: paths.labels, name: "x", normalization: .identity)
        }
    }

    @Test func labelOutOfRange() throws {
        let directory = try TempDirectory()
        let paths = try writePair(directory, labels: idxLabels([1, 10, 2]))
        expectError(.labelOutOfRange, mentioning: ["train-labels-idx1-ubyte", "label 10", "sample 1", "0..<10"]) {
            try IDXReader.read(images: paths.images, labels: paths.labels, name: "x", normalization: .identity)
        }
    }

    @Test func corruptGzip() throws {
        let directory = try TempDirectory()
        var packed = compress(idxLabels(labels))
        packed[packed.count - 7] ^= 0xff
        let path = try directory.write("train-labels-idx1-ubyte.gz", packed)
        expectError(.decompression, mentioning: ["train-labels-idx1-ubyte.gz"]) {
            try IDXReader.readLabels(path, classCount: 10)
        }
    }
}
