import Data
import Foundation
import Testing

/// The real FashionMNIST from the `dataset-fashion-mnist` package, when installed.
@Suite(.enabled(if: FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist")))
struct FashionMNISTTests {
    @Test func testSplit() throws {
        let dataset = try DatasetLoader.load("fashion-mnist", split: .test)
        #expect(dataset.name == "fashion-mnist")
        #expect(dataset.count == 10_000)
        #expect(dataset.images.shape == [10_000, 1, 28, 28])
        #expect(dataset.storedImages.heldAsPixels)  // converted as rows are taken
        #expect(dataset.classCount == 10)
        #expect(dataset.classCounts == [Int](repeating: 1_000, count: 10))
        let (mean, std) = Self.moments(dataset.images.scalars)
        #expect(abs(mean) < 0.05, "mean \(mean)")
        #expect(abs(std - 1) < 0.05, "std \(std)")
        // Raw pixels are in [0, 1] before normalisation.
        let low = (0 - 0.2860) / 0.3530 as Float
        let high = (1 - 0.2860) / 0.3530 as Float
        #expect(dataset.images.scalars.allSatisfy { $0 >= low - 1e-4 && $0 <= high + 1e-4 })
    }

    /// Loads the 60,000-image training split and reports the time; opt in with LETHE_DATA_TIMING=1 (meant for
    /// `swift test -c release`, since debug builds keep bounds checks in the conversion loops).
    @Test(.enabled(if: ProcessInfo.processInfo.environment["LETHE_DATA_TIMING"] != nil))
    func trainSplitLoadTime() throws {
        let clock = ContinuousClock()
        var dataset: Dataset?
        let elapsed = try clock.measure { dataset = try DatasetLoader.load("fashion-mnist", split: .train) }
        let train = try #require(dataset)
        print("FashionMNIST train split: \(train.count) images \(train.images.shape) loaded in \(elapsed)")
        #expect(train.images.shape == [60_000, 1, 28, 28])
        #expect(train.classCounts == [Int](repeating: 6_000, count: 10))
        let (mean, std) = Self.moments(train.images.scalars)
        #expect(abs(mean) < 0.01, "mean \(mean)")
        #expect(abs(std - 1) < 0.01, "std \(std)")
    }

    static func moments(_ scalars: [Float]) -> (mean: Double, std: Double) {
        let mean = scalars.reduce(0.0) { $0 + Double($1) } / Double(scalars.count)
        let variance = scalars.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(scalars.count)
        return (mean, variance.squareRoot())
    }
}
