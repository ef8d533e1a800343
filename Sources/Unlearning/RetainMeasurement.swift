import Foundation
import Tensor

/// The retained samples a verification predicts: a seeded simple random sample of them (`verify-retain=N`; a
/// classifier's default is `Acceptance.automaticRetainSample`), or every one (`verify-retain=0`, and regression). The same samples serve the verification before and after a run, so the retain drop
/// the verdict judges is measured on the same samples twice. The forget set, the validation split and the test
/// set are always predicted whole: only the retain accuracy is estimated.
public struct RetainMeasurement: Sendable, Equatable {
    /// Training indices of the measured retained samples, ascending.
    public let indices: [Int]
    /// How many samples are retained in all.
    public let population: Int

    /// The z-score of a two-sided 95% interval.
    public static let z95 = 1.96

    /// `sampleSize` 0 (or at least the retained count) measures every retained sample.
    public init(retain: [Int], sampleSize: Int, seed: UInt64) {
        population = retain.count
        guard sampleSize > 0, sampleSize < retain.count else {
            indices = retain.sorted()
            return
        }
        var generator = SeededGenerator(seed: seed, stream: "verify-retain")
        indices = Array(retain.shuffled(using: &generator).prefix(sampleSize)).sorted()
    }

    public var isSample: Bool { indices.count < population }

    /// Half the width of the 95% interval of an accuracy `p` measured on the sample (normal approximation with
    /// the finite-population correction); 0 when every retained sample is measured.
    public func margin(accuracy p: Double) -> Double {
        guard isSample, population > 1 else { return 0 }
        let n = Double(indices.count)
        let correction = (Double(population) - n) / (Double(population) - 1)
        return Self.z95 * (p * (1 - p) / n * correction).squareRoot()
    }
}
