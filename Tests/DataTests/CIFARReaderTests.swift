import Data
import LetheTesting
import Testing

/// CIFAR-10 and CIFAR-100 binary batches.
struct CIFARReaderTests {
    static let imageBytes = 3 * 32 * 32

    /// Records of `labels` (each record's label bytes) followed by a per-record pixel pattern.
    func records(_ labels: [[UInt8]], salt: Int = 0) -> [UInt8] {
        labels.enumerated().flatMap { index, label in label + pixelPattern(Self.imageBytes, salt: salt + index) }
    }

    func expectNormalized(_ images: [Float], image: Int, salt: Int) {
        let mean: [Float] = [0.4914, 0.4822, 0.4465]
        let std: [Float] = [0.2470, 0.2435, 0.2616]
        let pixels = pixelPattern(Self.imageBytes, salt: salt)
        for i in stride(from: 0, to: Self.imageBytes, by: 97) + [0, 1, 1024, 2048, Self.imageBytes - 1] {
            let channel = i / 1024  // CHW: each channel is a 32×32 plane
            let expected = (Float(pixels[i]) / 255 - mean[channel]) / std[channel]
            #expect(Tolerance.isClose(images[image * Self.imageBytes + i], expected), "image \(image) byte \(i)")
        }
    }

    @Test func cifar10BatchesConcatenate() throws {
        let directory = try TempDirectory()
        let first = try directory.write("data_batch_1.bin", records([[3], [0]]))
        let second = try directory.write("data_batch_2.bin", records([[9]], salt: 2))
        let dataset = try CIFARReader.read([first, second], variant: .cifar10, name: "cifar")
        #expect(dataset.images.shape == [3, 3, 32, 32])
        #expect(dataset.labels == [3, 0, 9])
        #expect(dataset.classCount == 10)
        expectNormalized(dataset.images.scalars, image: 0, salt: 0)
        expectNormalized(dataset.images.scalars, image: 1, salt: 1)
        expectNormalized(dataset.images.scalars, image: 2, salt: 2)
    }

    @Test func cifar100UsesFineLabels() throws {
        let directory = try TempDirectory()
        let path = try directory.write("train.bin", records([[19, 99], [0, 42]]))
        let dataset = try CIFARReader.read([path], variant: .cifar100, name: "cifar100")
        #expect(dataset.labels == [99, 42])
        #expect(dataset.classCount == 100)
        #expect(dataset.images.shape == [2, 3, 32, 32])
        expectNormalized(dataset.images.scalars, image: 1, salt: 1)
    }

    @Test func gzipBatchReadsTheSame() throws {
        let directory = try TempDirectory()
        let raw = try directory.write("raw.bin", records([[5], [6]]))
        let packed = try directory.write("packed.bin", compress(records([[5], [6]])))
        let a = try CIFARReader.readBatch(raw, variant: .cifar10)
        let b = try CIFARReader.readBatch(packed, variant: .cifar10)
        #expect(a.labels == b.labels)
        #expect(Tolerance.mismatch(a.images.tensor, b.images.tensor) == nil)
    }

    @Test func truncatedRecord() throws {
        let directory = try TempDirectory()
        let path = try directory.write("data_batch_1.bin", Array(records([[1], [2]]).dropLast(100)))
        expectError(.truncated, mentioning: ["data_batch_1.bin", "expected 6146 bytes", "6046"]) {
            try CIFARReader.readBatch(path, variant: .cifar10)
        }
        // A CIFAR-10 batch read as CIFAR-100 does not divide into 3074-byte records either.
        let three = try directory.write("three.bin", records([[1], [2], [3]]))
        expectError(.truncated, mentioning: ["three.bin"]) { try CIFARReader.readBatch(three, variant: .cifar100) }
    }

    @Test func emptyBatch() throws {
        let directory = try TempDirectory()
        let path = try directory.write("test_batch.bin", [])
        expectError(.empty, mentioning: ["test_batch.bin"]) { try CIFARReader.readBatch(path, variant: .cifar10) }
    }

    @Test func labelsOutOfRange() throws {
        let directory = try TempDirectory()
        let ten = try directory.write("data_batch_1.bin", records([[1], [10]]))
        expectError(.labelOutOfRange, mentioning: ["data_batch_1.bin", "label 10", "sample 1", "0..<10"]) {
            try CIFARReader.readBatch(ten, variant: .cifar10)
        }
        let fine = try directory.write("train.bin", records([[1, 1], [2, 100]]))
        expectError(.labelOutOfRange, mentioning: ["label 100", "0..<100"]) {
            try CIFARReader.readBatch(fine, variant: .cifar100)
        }
        let coarse = try directory.write("test.bin", records([[20, 1]]))
        expectError(.labelOutOfRange, mentioning: ["label 20", "0..<20"]) {
            try CIFARReader.readBatch(coarse, variant: .cifar100)
        }
    }

    @Test func singleChannelStatisticsApplyToAllChannels() throws {
        let directory = try TempDirectory()
        let path = try directory.write("b.bin", records([[0]]))
        let batch = try CIFARReader.readBatch(path, variant: .cifar10, normalization: .identity)
        let pixels = pixelPattern(Self.imageBytes)
        #expect(Tolerance.isClose(batch.images.tensor.scalars[2048 + 5], Float(pixels[2048 + 5]) / 255))
        expectError(.normalizationMismatch, mentioning: ["b.bin", "3 channel", "2 mean/std"]) {
            try CIFARReader.readBatch(
                path, variant: .cifar10, normalization: Normalization(mean: [0, 0], std: [1, 1]))
        }
    }
}
