import Foundation
import Unlearning

/// The membership audit of an unlearned model, as its report carries it (`lethe unlearn --references`): the
/// audited model's figures, the original's and the retrain's for comparison, and whether the forget set is still
/// exposed. Exposed means either of:
/// - more forget samples flagged at 1% FPR than the retrain allows (its count plus 2 points of the forget set,
///   issue 14's target) or, without a retrain, than chance explains (a one-sided binomial test at p < 0.01
///   against the 1% false-positive rate every held-out sample has);
/// - an AUC more than two standard errors above the retrain's (of the difference of two AUCs) or, without a
///   retrain, above 0.5. The 1% FPR point rests on the few highest scores; the AUC on all of them, and it sees
///   a forget set that is still a little more familiar than held-out data throughout.
public struct AuditVerdict: Sendable, Codable, Equatable {
    /// The reference directory and how many references it holds.
    public let references: String
    public let referenceCount: Int
    public let forgetSamples: Int
    public let figures: AuditFigures
    public let original: AuditFigures?
    public let retrain: AuditFigures?
    /// The most forget samples flagged at 1% FPR that still pass, the highest AUC that still passes, and why.
    public let allowedFlagged: Int
    public let allowedAuc: Double
    public let allowance: String
    public let exposed: Bool
    /// The audited model's offline scores, forget and held-out samples apart.
    public let histogram: ScoreHistogram?

    public init(
        references: String, referenceCount: Int, figures: AuditFigures, original: AuditFigures?,
        retrain: AuditFigures?, histogram: ScoreHistogram? = nil
    ) {
        self.histogram = histogram
        self.references = references
        self.referenceCount = referenceCount
        self.figures = figures
        self.original = original
        self.retrain = retrain
        forgetSamples = figures.positives
        let aucError = Self.chanceAucStandardError(positives: figures.positives, negatives: figures.negatives)
        if let retrain {
            // Counted on the same samples: the retrain's flagged ones plus 2% of them.
            allowedFlagged = retrain.flaggedAt1pctFpr.count + Int((0.02 * Double(figures.positives)).rounded(.down))
            allowedAuc = retrain.auc + 2 * 2.0.squareRoot() * aucError
            allowance = String(
                format: "the retrain's %.1f%% + 2 points and its AUC %.3f + 2 SE", 100 * retrain.tprAt1pctFpr,
                retrain.auc)
        } else {
            allowedFlagged = Self.chanceLimit(samples: figures.positives, rate: 0.01, pValue: 0.01)
            allowedAuc = 0.5 + 2 * aucError
            allowance = "what chance gives (p < 0.01 at 1% FPR, AUC 0.5 + 2 SE)"
        }
        exposed = figures.flaggedAt1pctFpr.count > allowedFlagged || figures.auc > allowedAuc
    }

    public var flagged: Int { figures.flaggedAt1pctFpr.count }

    /// One line for the console and the reports.
    public var summary: String {
        "\(flagged) of \(forgetSamples) forget samples remain distinguishable at 1% FPR "
            + String(format: "(TPR %.1f%%, AUC %.3f; ", 100 * figures.tprAt1pctFpr, figures.auc)
            + (exposed ? "more than \(allowance) allows: \(limits)" : "within \(allowance)")
            + ")"
    }

    private var limits: String {
        String(format: "at most %d flagged and AUC %.3f", allowedFlagged, allowedAuc)
    }

    /// The standard error of the AUC of scores that cannot tell `positives` (m) from `negatives` (n): the
    /// Mann–Whitney statistic's null variance divided by (mn)², √((m + n + 1) / (12 m n)).
    public static func chanceAucStandardError(positives: Int, negatives: Int) -> Double {
        guard positives > 0, negatives > 0 else { return 0 }
        let (m, n) = (Double(positives), Double(negatives))
        return ((m + n + 1) / (12 * m * n)).squareRoot()
    }

    /// The largest count k with P(X ≥ k) ≥ `pValue` for X ~ Binomial(`samples`, `rate`): more than k flagged samples
    /// is unlikely (< `pValue`) when each is flagged with probability `rate` alone.
    public static func chanceLimit(samples: Int, rate: Double, pValue: Double) -> Int {
        guard samples > 0 else { return 0 }
        // P(X = k) by the recurrence P(k) = P(k−1) · (n−k+1)/k · p/(1−p), starting from (1−p)^n; the upper tail
        // P(X > k) = 1 − P(X ≤ k).
        var probability = pow(1 - rate, Double(samples))
        var cumulative = probability
        var k = 0
        while k < samples, 1 - cumulative >= pValue {
            k += 1
            probability *= Double(samples - k + 1) / Double(k) * rate / (1 - rate)
            cumulative += probability
        }
        return k
    }
}
