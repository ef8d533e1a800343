import Foundation

/// Gaussians fitted to each sample's reference confidences, with one variance pooled over the samples.
///
/// With few references (LiRA's authors advise it below about 64), per-sample variances from a handful of values
/// are too noisy: a sample whose two OUT values happen to agree gets a tiny variance and looks exposed. So each
/// sample keeps its own mean and shares the pooled within-sample variance
/// σ² = Σ_i Σ_k (x_ik − x̄_i)² / Σ_i (n_i − 1), summed over samples with at least one value. Without any
/// degree of freedom (no sample has two values) it falls back to the variance of all values about their mean;
/// it never goes below `minimumVariance`, so scores stay finite when every reference agrees.
public struct PooledGaussians: Sendable, Equatable {
    /// Per sample: the mean of its values, or nil without any.
    public let means: [Double?]
    /// Per sample: how many values its mean rests on.
    public let counts: [Int]
    public let variance: Double
    /// The mean of every value (for samples without values of their own), or nil when there are none.
    public let overallMean: Double?

    public static let defaultMinimumVariance = 1e-4

    /// `values[i]` holds sample i's values (e.g. its φ under the references where it was OUT).
    public init(_ values: [[Double]], minimumVariance: Double = defaultMinimumVariance) {
        means = values.map { $0.isEmpty ? nil : $0.reduce(0, +) / Double($0.count) }
        counts = values.map(\.count)
        let all = values.flatMap { $0 }
        overallMean = all.isEmpty ? nil : all.reduce(0, +) / Double(all.count)
        var squares = 0.0
        var freedom = 0
        for (sample, mean) in zip(values, means) {
            guard let mean else { continue }
            squares += sample.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
            freedom += sample.count - 1
        }
        let pooled: Double
        if freedom > 0 {
            pooled = squares / Double(freedom)
        } else if all.count > 1, let overallMean {
            pooled = all.reduce(0) { $0 + ($1 - overallMean) * ($1 - overallMean) } / Double(all.count - 1)
        } else {
            pooled = 0
        }
        variance = max(pooled.isFinite ? pooled : 0, minimumVariance)
    }

    public var standardDeviation: Double { variance.squareRoot() }

    /// Sample i's mean, or the overall mean when it has no values (nil when no sample has any).
    public func mean(of sample: Int) -> Double? { means[sample] ?? overallMean }

    /// log N(x; μ, σ²).
    public static func logDensity(_ x: Double, mean: Double, variance: Double) -> Double {
        -0.5 * log(2 * Double.pi * variance) - (x - mean) * (x - mean) / (2 * variance)
    }
}
