import Foundation

/// LiRA's two tests of one model's confidences φ against the references' Gaussians (Carlini et al. 2022).
///
/// - Offline: how far φ lies above the sample's OUT Gaussian, as the z-score (φ − μ_out) / σ_out; the one-sided
///   p-value 1 − Φ(z) is the chance that a model which never saw the sample is at least this confident. A
///   larger score means more member-like. It needs only OUT references, so members of the training set and test
///   samples (OUT of every reference) are scored alike; this is the audit's headline test.
/// - Online: the log-likelihood ratio log N(φ; μ_in, σ²_in) − log N(φ; μ_out, σ²_out). A sample without IN
///   references of its own (a test sample, or one OUT of all of them) gets μ_in = μ_out + the mean IN−OUT shift
///   of the samples that have both; without any sample that has both there is no online test (nil).
public struct MembershipScores: Sendable, Equatable {
    public let offline: [Double]
    public let offlinePValues: [Double]
    public let online: [Double]?

    /// Scores `phi[i]` (the audited model's φ of sample i) against `outFit` and `inFit` (fitted on the same
    /// samples, in the same order).
    public init(phi: [Double], outFit: PooledGaussians, inFit: PooledGaussians) {
        precondition(phi.count == outFit.means.count && phi.count == inFit.means.count, "one φ per fitted sample")
        let sigmaOut = outFit.standardDeviation
        offline = phi.indices.map { i in outFit.mean(of: i).map { (phi[i] - $0) / sigmaOut } ?? 0 }
        offlinePValues = offline.map { 0.5 * erfc($0 / 2.0.squareRoot()) }
        let shifts = phi.indices.compactMap { i -> Double? in
            guard let mIn = inFit.means[i], let mOut = outFit.means[i] else { return nil }
            return mIn - mOut
        }
        guard !shifts.isEmpty else {
            online = nil
            return
        }
        let shift = shifts.reduce(0, +) / Double(shifts.count)
        online = phi.indices.map { i in
            guard let mOut = outFit.mean(of: i) else { return 0 }
            let mIn = inFit.means[i] ?? (mOut + shift)
            return PooledGaussians.logDensity(phi[i], mean: mIn, variance: inFit.variance)
                - PooledGaussians.logDensity(phi[i], mean: mOut, variance: outFit.variance)
        }
    }

    /// Fits the references' Gaussians: `referencePhi[i][k]` is sample i's φ under reference k, `isIn[i][k]`
    /// whether reference k trained on it.
    public static func fits(referencePhi: [[Double]], isIn: [[Bool]]) -> (out: PooledGaussians, in: PooledGaussians) {
        precondition(referencePhi.count == isIn.count, "one membership row per sample")
        let split = zip(referencePhi, isIn).map { values, flags in
            (
                out: zip(values, flags).filter { !$0.1 }.map(\.0),
                in: zip(values, flags).filter { $0.1 }.map(\.0)
            )
        }
        return (PooledGaussians(split.map(\.out)), PooledGaussians(split.map(\.in)))
    }
}
