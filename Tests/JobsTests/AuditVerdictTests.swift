import Foundation
import Jobs
import Testing
import Unlearning

/// When the membership audit calls a forget set exposed: against chance (binomial tail at p < 0.01) without a
/// retrain, against the retrain's rate + 2 points with one.
struct AuditVerdictTests {
    func figures(flagged: Int, of positives: Int = 600, auc: Double = 0.5) throws -> AuditFigures {
        let json: [String: Any] = [
            "auc": auc, "positives": positives, "negatives": positives,
            "tpr_at_1pct_fpr": Double(flagged) / Double(positives), "tpr_at_0_1pct_fpr": 0.0,
            "flagged_at_1pct_fpr": Array(0..<flagged),
        ]
        return try JSONDecoder().decode(AuditFigures.self, from: JSONSerialization.data(withJSONObject: json))
    }

    /// Binomial(600, 1%): P(X > 11) = 0.0195, P(X > 12) = 0.0085, so 12 is the most chance explains at p < 0.01;
    /// computed by hand (exact sums) and checked on smaller cases.
    @Test func chanceLimitIsTheBinomialTail() {
        #expect(AuditVerdict.chanceLimit(samples: 600, rate: 0.01, pValue: 0.01) == 12)
        // Binomial(100, 1%): P(X > 3) = 0.0184, P(X > 4) = 0.0034.
        #expect(AuditVerdict.chanceLimit(samples: 100, rate: 0.01, pValue: 0.01) == 4)
        // One sample: P(X > 0) = 1% is not below 1%, P(X > 1) = 0.
        #expect(AuditVerdict.chanceLimit(samples: 1, rate: 0.01, pValue: 0.01) == 1)
        #expect(AuditVerdict.chanceLimit(samples: 0, rate: 0.01, pValue: 0.01) == 0)
    }

    /// Reports are written with snake-case keys and read back with `JSONDecoder.snakeCase` (`lethe result`,
    /// `lethe summarize`); the figures' own snake-case names survive that as they survive a plain decoder.
    @Test func verdictsReadBackAsReportsAreRead() throws {
        let verdict = AuditVerdict(
            references: "refs", referenceCount: 2, figures: try figures(flagged: 9, of: 100, auc: 0.61),
            original: try figures(flagged: 20, of: 100, auc: 0.7), retrain: try figures(flagged: 1, of: 100),
            histogram: ScoreHistogram(forget: [0.5, 1.5, 3], heldOut: [-1, 0, 0.2]))
        let written = try JSONEncoder.sorted.encode(verdict)
        #expect(String(decoding: written, as: UTF8.self).contains("\"tpr_at_1pct_fpr\""))
        #expect(try JSONDecoder.snakeCase.decode(AuditVerdict.self, from: written) == verdict)
        #expect(
            try JSONDecoder().decode(AuditFigures.self, from: JSONEncoder.sorted.encode(verdict.figures))
                == verdict.figures)
    }

    @Test func withoutARetrainChanceDecides() throws {
        let within = AuditVerdict(
            references: "refs", referenceCount: 8, figures: try figures(flagged: 12), original: nil, retrain: nil)
        #expect(!within.exposed && within.allowedFlagged == 12)
        let exposed = AuditVerdict(
            references: "refs", referenceCount: 8, figures: try figures(flagged: 13), original: nil, retrain: nil)
        #expect(exposed.exposed)
        #expect(exposed.summary.hasPrefix("13 of 600 forget samples remain distinguishable at 1% FPR"))
        #expect(exposed.summary.contains("at most 12 flagged"))
    }

    @Test func aRetrainSetsTheAllowance() throws {
        // The retrain flags 11 of 600 (1.83%): 11 + 12 (2 points of 600) = 23 samples pass.
        let retrain = try figures(flagged: 11)
        let pass = AuditVerdict(
            references: "refs", referenceCount: 8, figures: try figures(flagged: 23), original: nil, retrain: retrain)
        #expect(!pass.exposed && pass.allowedFlagged == 23)
        let fail = AuditVerdict(
            references: "refs", referenceCount: 8, figures: try figures(flagged: 24), original: nil, retrain: retrain)
        #expect(fail.exposed)
        #expect(fail.summary.contains("the retrain's 1.8% + 2 points"))
    }

    /// The null standard error by hand: 600 against 600 gives √(1201 / (12 · 360000)) = 0.016674.
    @Test func chanceAucErrorIsTheMannWhitneyNullSpread() {
        #expect(abs(AuditVerdict.chanceAucStandardError(positives: 600, negatives: 600) - 0.016674) < 1e-6)
        #expect(AuditVerdict.chanceAucStandardError(positives: 0, negatives: 10) == 0)
    }

    /// A forget set that is a little more familiar throughout (AUC) is exposed even when its top scores are not.
    @Test func anAucAboveChanceOrTheRetrainsIsExposedToo() throws {
        // Without a retrain: 0.5 + 2 × 0.016674 = 0.5333.
        let familiar = AuditVerdict(
            references: "refs", referenceCount: 8, figures: try figures(flagged: 5, auc: 0.54), original: nil,
            retrain: nil)
        #expect(familiar.exposed && abs(familiar.allowedAuc - 0.53335) < 1e-4)
        let unfamiliar = AuditVerdict(
            references: "refs", referenceCount: 8, figures: try figures(flagged: 5, auc: 0.53), original: nil,
            retrain: nil)
        #expect(!unfamiliar.exposed)
        // With a retrain at AUC 0.513: 0.513 + 2√2 × 0.016674 = 0.5602 (the diff of two AUCs).
        let retrain = try figures(flagged: 7, auc: 0.513)
        let scrubLike = AuditVerdict(
            references: "refs", referenceCount: 8, figures: try figures(flagged: 15, auc: 0.563), original: nil,
            retrain: retrain)
        #expect(scrubLike.exposed && scrubLike.flagged <= scrubLike.allowedFlagged)
        let forgotten = AuditVerdict(
            references: "refs", referenceCount: 8, figures: try figures(flagged: 12, auc: 0.5175), original: nil,
            retrain: retrain)
        #expect(!forgotten.exposed)
    }
}
