import Data
import Foundation
import LetheTesting
import Testing

/// Alias resolution and format detection from a directory's files.
struct DatasetLoaderTests {
    /// IDX train (3 images) and test (2 images) files; gzip for the training split.
    func writeIDX(_ directory: TempDirectory, under folder: String = "") throws {
        try directory.write(
            folder + "train-images-idx3-ubyte.gz",
            compress(idxImages(count: 3, height: 2, width: 2, pixels: pixelPattern(12))))
        try directory.write(folder + "train-labels-idx1-ubyte.gz", compress(idxLabels([1, 2, 3])))
        try directory.write(
            folder + "t10k-images-idx3-ubyte", idxImages(count: 2, height: 2, width: 2, pixels: pixelPattern(8)))
        try directory.write(folder + "t10k-labels-idx1-ubyte", idxLabels([4, 5]))
    }

    func cifarRecord(_ labels: [UInt8]) -> [UInt8] { labels + pixelPattern(3072) }

    @Test func idxDirectoryUsesFashionMNISTStatistics() throws {
        let directory = try TempDirectory()
        try writeIDX(directory)
        let train = try DatasetLoader.load(directory.path, split: .train)
        #expect(train.count == 3)
        #expect(train.labels == [1, 2, 3])
        #expect(Tolerance.isClose(train.images.scalars[0], -0.2860 / 0.3530))
        let test = try DatasetLoader.load(directory.path, split: .test, normalization: .identity)
        #expect(test.images.shape == [2, 1, 2, 2])
        #expect(test.labels == [4, 5])
        #expect(Tolerance.isClose(test.images.scalars[1], 1))
        #expect(test.name == (directory.path as NSString).lastPathComponent)
    }

    /// A split read from files carries what it was read from and how (`Dataset.source`): the same for the same bytes
    /// and normalisation, different when a byte or the normalisation differs, and none for a dataset made from it.
    @Test func loadedSplitsNameTheirSource() throws {
        let directory = try TempDirectory()
        try writeIDX(directory)
        let train = try DatasetLoader.load(directory.path, split: .train)
        let source = try #require(train.source)
        #expect(source.count == 64)
        #expect(try DatasetLoader.load(directory.path, split: .train).source == source)
        #expect(try DatasetLoader.load(directory.path, split: .test).source != source)
        #expect(try DatasetLoader.load(directory.path, split: .train, normalization: .identity).source != source)
        var pixels = pixelPattern(12)
        pixels[5] ^= 1
        try directory.write(
            "train-images-idx3-ubyte.gz", compress(idxImages(count: 3, height: 2, width: 2, pixels: pixels)))
        #expect(try DatasetLoader.load(directory.path, split: .train).source != source)
        #expect(train.subset(indices: [0, 1]).source == nil)
    }

    @Test func aliasesResolveUnderTheRoot() throws {
        let root = try TempDirectory()
        try writeIDX(root, under: "mnist/")
        let mnist = try DatasetLoader.load("mnist", split: .test, root: root.path)
        #expect(mnist.name == "mnist")
        #expect(Tolerance.isClose(mnist.images.scalars[0], -0.1307 / 0.3081))
        #expect(DatasetLocation.alias(named: "Fashion_MNIST")?.name == "fashion-mnist")
        #expect(try DatasetLocation.resolve("MNIST", root: root.path).normalization == .mnist)
    }

    @Test func missingAliasNamesItsPackage() throws {
        let root = try TempDirectory()
        expectError(.notInstalled, mentioning: ["fashion-mnist", "apt-get install dataset-fashion-mnist", root.path]) {
            try DatasetLoader.load("fashion-mnist", split: .train, root: root.path)
        }
        expectError(.notInstalled, mentioning: ["apt-get install dataset-mnist"]) {
            try DatasetLoader.load("mnist", split: .train, root: root.path)
        }
    }

    @Test func unknownSpecAndUnrecognizedDirectory() throws {
        let directory = try TempDirectory()
        expectError(.unknownDataset, mentioning: ["no-such-dataset", "fashion-mnist"]) {
            try DatasetLoader.load("no-such-dataset", split: .train, root: directory.path)
        }
        try directory.write("notes.txt", Array("hello".utf8))
        expectError(.unrecognizedDirectory, mentioning: [directory.path, "notes.txt"]) {
            try DatasetLoader.load(directory.path, split: .train)
        }
    }

    @Test func idxSplitWithMissingFile() throws {
        let directory = try TempDirectory()
        try directory.write("train-images-idx3-ubyte", idxImages(count: 1, height: 1, width: 1, pixels: [0]))
        expectError(.missingFile, mentioning: ["train-labels-idx1-ubyte", "IDX"]) {
            try DatasetLoader.load(directory.path, split: .train)
        }
        expectError(.missingFile, mentioning: ["t10k-images-idx3-ubyte"]) {
            try DatasetLoader.load(directory.path, split: .test)
        }
    }

    @Test func cifar10Directory() throws {
        let directory = try TempDirectory()
        try directory.write("cifar-10-batches-bin/data_batch_1.bin", cifarRecord([1]) + cifarRecord([2]))
        try directory.write("cifar-10-batches-bin/data_batch_2.bin", cifarRecord([3]))
        try directory.write("cifar-10-batches-bin/test_batch.bin", cifarRecord([7]))
        let train = try DatasetLoader.load(directory.path, split: .train)
        #expect(train.labels == [1, 2, 3])
        #expect(train.images.shape == [3, 3, 32, 32])
        #expect(Tolerance.isClose(train.images.scalars[1024], (0 - 0.4822) / 0.2435))  // green plane, byte 0
        #expect(try DatasetLoader.load(directory.path, split: .test).labels == [7])
        // A gap in the batch numbering is an error rather than a silently smaller dataset.
        try directory.write("cifar-10-batches-bin/data_batch_4.bin", cifarRecord([4]))
        expectError(.missingFile, mentioning: ["data_batch_3.bin", "CIFAR-10"]) {
            try DatasetLoader.load(directory.path, split: .train)
        }
    }

    @Test func cifar100Directory() throws {
        let directory = try TempDirectory()
        try directory.write("train.bin", cifarRecord([4, 77]))
        let train = try DatasetLoader.load(directory.path, split: .train)
        #expect(train.labels == [77])
        #expect(train.classCount == 100)
        expectError(.missingFile, mentioning: ["test.bin", "CIFAR-100"]) {
            try DatasetLoader.load(directory.path, split: .test)
        }
    }

    @Test func npyDirectories() throws {
        let split = try TempDirectory()
        try split.write("train_images.npy", npy(descr: "|u1", shape: [2, 1, 1], data: [0, 255]))
        try split.write("train_labels.npy", npy(descr: "<i8", shape: [2], data: littleEndian([Int64(1), 0])))
        try split.write("test_images.npy", npy(descr: "|u1", shape: [1, 1, 1], data: [51]))
        try split.write("test_labels.npy", npy(descr: "<i8", shape: [1], data: littleEndian([Int64(1)])))
        let train = try DatasetLoader.load(split.path, split: .train)
        #expect(train.labels == [1, 0])
        #expect(Tolerance.isClose(train.images.scalars[1], 1))  // default: mean 0, std 1
        let test = try DatasetLoader.load(split.path, split: .test, normalization: Normalization(mean: 0.1, std: 0.5))
        #expect(Tolerance.isClose(test.images.scalars[0], (0.2 - 0.1) / 0.5))

        let single = try TempDirectory()
        try single.write("images.npy", npy(descr: "|u1", shape: [1, 2, 2], data: [1, 2, 3, 4]))
        expectError(.missingFile, mentioning: ["labels.npy", "NumPy"]) {
            try DatasetLoader.load(single.path, split: .test)
        }
        try single.write("labels.npy", npy(descr: "|u1", shape: [1], data: [0]))
        #expect(try DatasetLoader.load(single.path, split: .test).count == 1)
        #expect(try DatasetLoader.load(single.path, split: .train).count == 1)

        let nested = try TempDirectory()
        try nested.write("test/images.npy", npy(descr: "|u1", shape: [1, 2, 2], data: [1, 2, 3, 4]))
        try nested.write("test/labels.npy", npy(descr: "|u1", shape: [1], data: [2]))
        #expect(try DatasetLoader.load(nested.path, split: .test).labels == [2])
    }

    @Test func normalizationChannelMismatch() throws {
        let directory = try TempDirectory()
        try writeIDX(directory)
        expectError(.normalizationMismatch, mentioning: ["1 channel", "3 mean/std"]) {
            try DatasetLoader.load(directory.path, split: .test, normalization: .cifar)
        }
    }
}
