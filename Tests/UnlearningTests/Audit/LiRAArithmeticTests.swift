import Foundation
import Tensor
import Testing

@testable import Unlearning

/// LiRA's arithmetic against values computed by hand.
struct LiRAArithmeticTests {
    func close(_ a: Double, _ b: Double, _ tolerance: Double = 1e-9) -> Bool { abs(a - b) <= tolerance }

    @Test func phiIsTheLogOddsOfTheTrueLabel() {
        // p = e²/(e² + 2), so p/(1 − p) = e²/2 and φ = 2 − ln 2.
        #expect(close(LogitConfidence.phi(logits: [2, 0, 0], label: 0), 2 - log(2.0), 1e-6))
        #expect(close(LogitConfidence.phi(logits: [2, 0, 0], label: 1), 0 - log(exp(2.0) + 1), 1e-6))
        // Shifting every logit changes nothing, even far beyond where exp overflows or underflows.
        #expect(close(LogitConfidence.phi(logits: [-1000, -1000, -1000], label: 0), -log(2.0), 1e-6))
        #expect(close(LogitConfidence.phi(logits: [90, 88], label: 0), 2, 1e-6))
    }

    @Test func phiStaysFiniteWhenTheModelIsCertain() {
        // p rounds to 1 in float arithmetic: the direct formula would give log(1/0).
        #expect(close(LogitConfidence.phi(logits: [60, 0, 0], label: 0), 60 - log(2.0), 1e-6))
        #expect(LogitConfidence.phi(logits: [1000, 0, 0], label: 0) == LogitConfidence.limit)
        #expect(LogitConfidence.phi(logits: [0, 1000, 0], label: 0) == -LogitConfidence.limit)
        #expect(LogitConfidence.phi(logits: [.infinity, 0], label: 0) == LogitConfidence.limit)
        #expect(LogitConfidence.phi(logits: [5], label: 0) == LogitConfidence.limit)  // no other class
        #expect(LogitConfidence.phi(logits: [.nan, 0], label: 0).isFinite)
    }

    @Test func gaussiansKeepPerSampleMeansAndPoolTheVariance() {
        // Means 2, 6, 5; squares 1+1 + 4+0+4 = 10 over (1 + 2 + 0) degrees of freedom.
        let fit = PooledGaussians([[1, 3], [4, 6, 8], [5], []])
        #expect(fit.means[0].map { close($0, 2) } == true)
        #expect(fit.means[1].map { close($0, 6) } == true)
        #expect(fit.means[2].map { close($0, 5) } == true)
        #expect(fit.means[3] == nil)
        #expect(fit.counts == [2, 3, 1, 0])
        #expect(close(fit.variance, 10.0 / 3))
        #expect(fit.mean(of: 3).map { close($0, 27.0 / 6) } == true)  // no values: the overall mean
    }

    @Test func gaussiansStayUsableOnDegenerateInput() {
        // Every reference agrees: the variance is floored, not zero.
        #expect(close(PooledGaussians([[2, 2], [3, 3]]).variance, PooledGaussians.defaultMinimumVariance))
        // One value per sample: no within-sample freedom, so the variance of all values (1 and 3: 2).
        #expect(close(PooledGaussians([[1], [3]]).variance, 2))
        // Nothing at all.
        let empty = PooledGaussians([[], []])
        #expect(empty.mean(of: 0) == nil && empty.variance > 0)
    }

    @Test func offlineAndOnlineScoresMatchTheHandComputedOnes() throws {
        // OUT means 1, 5, 2 and IN means 4, 10 (none for the third sample, like a test sample); both variances 2.
        let referencePhi: [[Double]] = [[0, 2, 3, 5], [4, 6, 9, 11], [1, 3]]
        let isIn: [[Bool]] = [[false, false, true, true], [false, false, true, true], [false, false]]
        let (outFit, inFit) = MembershipScores.fits(referencePhi: referencePhi, isIn: isIn)
        #expect(close(outFit.variance, 2) && close(inFit.variance, 2))
        let scores = MembershipScores(phi: [4, 5, 6], outFit: outFit, inFit: inFit)
        // Each mean rests on 2 OUT values: the predictive variance of a new OUT model is 2 × (1 + 1/2) = 3.
        #expect(close(scores.offline[0], 3 / 3.0.squareRoot()))
        #expect(close(scores.offline[1], 0))
        #expect(close(scores.offline[2], 4 / 3.0.squareRoot()))
        #expect(close(scores.offlinePValues[0], 0.041632258331, 1e-9))  // 1 − Φ(1.7321)
        #expect(close(scores.offlinePValues[1], 0.5))
        // The deviations d = (φ − μ_out) / √(3/2) are scored against N(4, 2) (the mean shift ((4 − 1) + (10 − 5)) / 2
        // = 4, IN variance 2) and N(0, 2): (d² − (d − 4)²) / 4 = 2d − 4.
        let online = try #require(scores.online)
        #expect(close(online[0], 2 * 3 / 1.5.squareRoot() - 4))
        #expect(close(online[1], -4))
        #expect(close(online[2], 2 * 4 / 1.5.squareRoot() - 4))
    }

    @Test func aRetrainLikeModelIsNotFlaggedForTheNoiseOfItsFewerOutReferences() throws {
        // Positives are OUT of 2 of 4 references, negatives of all 4; the audited model draws every φ from the same
        // OUT distribution as the references, so it should look like a non-member. With the variance of a mean of n
        // values added, the positives' scores spread like the negatives' (z has variance 1 for both).
        var generator = SeededGenerator(seed: 3)
        func normal() -> Double {
            let (u, v) = (
                Double.random(in: Double.ulpOfOne..<1, using: &generator), Double.random(in: 0..<1, using: &generator)
            )
            return (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
        }
        let (positives, negatives) = (4000, 4000)
        var referencePhi: [[Double]] = []
        var isIn: [[Bool]] = []
        var phi: [Double] = []
        for sample in 0..<(positives + negatives) {
            let center = 3 * normal()
            let flags = sample < positives ? [false, false, true, true] : [false, false, false, false]
            referencePhi.append(flags.map { $0 ? center + 2 + normal() : center + normal() })
            isIn.append(flags)
            phi.append(center + normal())
        }
        let audit = MembershipAudit(referencePhi: referencePhi, isIn: isIn, positives: positives)
        let scores = audit.scores(phi: phi)
        func variance(_ values: ArraySlice<Double>) -> Double {
            let mean = values.reduce(0, +) / Double(values.count)
            return values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1)
        }
        #expect(abs(variance(scores.offline.prefix(positives)) - 1) < 0.1)
        #expect(abs(variance(scores.offline.dropFirst(positives)) - 1) < 0.1)
        let figures = audit.figures(scores)
        #expect(abs(figures.auc - 0.5) < 0.03 && figures.tprAt1pctFpr < 0.025)
        #expect(abs(try #require(figures.onlineAuc) - 0.5) < 0.03)
    }

    @Test func scoresAreFiniteWhenEverySampleIsInEveryReference() {
        let (outFit, inFit) = MembershipScores.fits(
            referencePhi: [[1, 2], [3, 3]], isIn: [[true, true], [true, true]])
        let scores = MembershipScores(phi: [5, 100], outFit: outFit, inFit: inFit)
        #expect(scores.offline == [0, 0])  // nothing to compare with: uninformative, not NaN
        #expect(scores.online == nil)
        #expect(scores.offlinePValues.allSatisfy { $0.isFinite })
    }

    @Test func membershipPutsEverySampleInHalfTheReferences() {
        let pool = Array(stride(from: 0, to: 400, by: 2))
        let membership = ReferenceMembership(pool: pool, references: 8, seed: 7)
        for index in pool { #expect((0..<8).filter { membership.isMember(index, of: $0) }.count == 4) }
        let sizes = (0..<8).map { membership.members(of: $0).count }
        #expect(sizes.reduce(0, +) == 4 * pool.count)
        #expect(sizes.allSatisfy { (60...140).contains($0) }, "\(sizes)")
        #expect(membership.members(of: 3) == ReferenceMembership(pool: pool, references: 8, seed: 7).members(of: 3))
        #expect(membership.members(of: 3) != ReferenceMembership(pool: pool, references: 8, seed: 8).members(of: 3))
        #expect(
            membership.matrix(for: [nil, 1]) == [
                [Bool](repeating: false, count: 8), [Bool](repeating: false, count: 8),
            ])
    }
}
