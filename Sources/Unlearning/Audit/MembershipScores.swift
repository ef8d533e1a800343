import Foundation

/// LiRA's two tests of one model's confidences φ against the references' Gaussians (Carlini et al. 2022).
///
/// - Offline: how far φ lies above the sample's OUT Gaussian, as the z-score (φ − μ_out) / σ; the one-sided
///   p-value 1 − Φ(z) is the chance that a model which never saw the sample is at least this confident. A
///   larger score means more member-like. It needs only OUT references, so members of the training set and test
///   samples (OUT of every reference) are scored alike; this is the audit's headline test. σ is the predictive
///   spread of a new OUT model, σ²_out (1 + 1/n) for a mean of n OUT values: a training sample is OUT of about
///   half the references and a test sample of all of them, and without the 1/n term the noisier means of the
///   forget samples alone would widen their scores and flag a model that never saw them (a retrain).
/// - Online: the log-likelihood ratio log N(d; s, σ²_in) − log N(d; 0, σ²_out) of the deviation
///   d = (φ − μ_out) / √(1 + 1/n), which a model that never saw the sample draws from N(0, σ²_out) whatever n is,
///   with s the mean IN−OUT shift of the samples that have both, for every sample. The held-out
///   negatives are test samples, which no reference trained on: per-sample IN means for the positives only
///   would score the two groups by different rules (it flagged about 30% of the forget samples of a retrain at
///   1% FPR with 8 references), so the shift is shared. Without any sample that has both there is no online
///   test (nil).
public struct MembershipScores: Sendable, Equatable {
    public let offline: [Double]
    public let offlinePValues: [Double]
    public let online: [Double]?

    /// Scores `phi[i]` (the audited model's φ of sample i) against `outFit` and `inFit` (fitted on the same
    /// samples, in the same order).
    public init(phi: [Double], outFit: PooledGaussians, inFit: PooledGaussians) {
        precondition(phi.count == outFit.means.count && phi.count == inFit.means.count, "one φ per fitted sample")
        // 1 + 1/n for a mean of n OUT values (a sample without any takes the overall mean: 1).
        let inflation = phi.indices.map { i in 1 + 1 / Double(max(outFit.counts[i], 1)) }
        offline = phi.indices.map { i in
            outFit.mean(of: i).map { (phi[i] - $0) / (outFit.variance * inflation[i]).squareRoot() } ?? 0
        }
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
            let deviation = (phi[i] - mOut) / inflation[i].squareRoot()
            return PooledGaussians.logDensity(deviation, mean: shift, variance: inFit.variance)
                - PooledGaussians.logDensity(deviation, mean: 0, variance: outFit.variance)
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
