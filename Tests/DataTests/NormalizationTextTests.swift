import Data
import Foundation
import LetheTesting
import Testing

/// `--normalize`'s text: every form reads, prints back to the same statistics, and bad text is refused saying why.
struct NormalizationTextTests {
    @Test func everyFormReads() throws {
        #expect(try Normalization(text: "none") == .identity)
        #expect(try Normalization(text: " None ") == .identity)
        #expect(try Normalization(text: "0.2860/0.3530") == .fashionMNIST)
        #expect(try Normalization(text: "0.2860,0.3530") == .fashionMNIST)  // MEAN,STD for one channel
        let cifar = try Normalization(text: "0.4914,0.4822,0.4465/0.2470,0.2435,0.2616")
        #expect(cifar == .cifar)
    }

    @Test func theTextReadsBackToTheSameStatistics() throws {
        for normalization in [Normalization.identity, .fashionMNIST, .mnist, .cifar, Normalization(mean: 0.1, std: 3)] {
            #expect(try Normalization(text: normalization.text) == normalization, "\(normalization.text)")
        }
        #expect(Normalization.identity.text == "none")
        #expect(Normalization.fashionMNIST.text == "0.286/0.353")
    }

    @Test func badTextIsRefusedSayingWhy() {
        let cases: [(String, String)] = [
            ("0.1,0.2,0.3", "give MEANS/STDS"), ("0.5/0.2/0.1", "give MEANS/STDS"), ("0.5,0.4/0.2", "2 mean(s) but 1"),
            ("0.5/0", "positive"), ("0.5/-1", "positive"), ("a/b", "'a' is not a number"), ("nan/1", "not a number"),
            ("", "not a number"),
        ]
        for (text, reason) in cases {
            #expect {
                try Normalization(text: text)
            } throws: { error in
                guard case .invalidNormalization(text, let said) = error as? DatasetError else { return false }
                return said.contains(reason) && "\(error)".contains("or none")
            }
        }
    }

    @Test func oneValueStandsForEveryChannel() throws {
        let gray = Normalization(mean: 0.5, std: 0.25)
        #expect(gray.sameStatistics(as: Normalization(mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25])))
        #expect(!gray.sameStatistics(as: Normalization(mean: [0.5, 0.4, 0.5], std: [0.25, 0.25, 0.25])))
        #expect(!Normalization.cifar.sameStatistics(as: Normalization(mean: [0.4914, 0.4822], std: [0.247, 0.2435])))
    }

    /// The default each kind of directory gets is the one `load` applies without a normalisation.
    @Test func theDefaultIsWhatLoadApplies() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let arrays = directory.url.appendingPathComponent("npy")
        try FileManager.default.createDirectory(at: arrays, withIntermediateDirectories: true)
        try Data(npy(descr: "<f4", shape: [1, 1, 2, 2], data: littleEndian([0, 0.25, 0.5, 1] as [Float])))
            .write(to: arrays.appendingPathComponent("images.npy"))
        try Data(npy(descr: "|u1", shape: [1], data: [3])).write(to: arrays.appendingPathComponent("labels.npy"))
        #expect(try DatasetLoader.defaultNormalization(arrays.path) == .identity)
        #expect(try DatasetLoader.load(arrays.path, split: .test).images.scalars == [0, 0.25, 0.5, 1])
        let idx = directory.url.appendingPathComponent("idx")
        try FileManager.default.createDirectory(at: idx, withIntermediateDirectories: true)
        try Data().write(to: idx.appendingPathComponent("train-images-idx3-ubyte"))
        #expect(try DatasetLoader.defaultNormalization(idx.path) == .fashionMNIST)
        #expect(throws: DatasetError.self) { try DatasetLoader.defaultNormalization(directory.path("missing")) }
    }
}
