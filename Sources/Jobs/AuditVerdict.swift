import Foundation
import Unlearning

/// The membership audit of an unlearned model, as its report carries it (`lethe unlearn --references`): the
/// audited model's figures, the original's and the retrain's for comparison, and whether the forget set is still
/// exposed. Exposed means: more forget samples flagged at 1% FPR than the retrain allows (its rate plus 2 points,
/// issue 14's target) or, without a retrain, than chance explains (a one-sided binomial test at p < 0.01 against
/// the 1% false-positive rate every held-out sample has).
public struct AuditVerdict: Sendable, Codable, Equatable {
    /// The reference directory and how many references it holds.
    public let references: String
    public let referenceCount: Int
    public let forgetSamples: Int
    public let figures: AuditFigures
    public let original: AuditFigures?
    public let retrain: AuditFigures?
    /// The most forget samples flagged at 1% FPR that still pass, and why that many.
    public let allowedFlagged: Int
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
        if let retrain {
            // Counted on the same samples: the retrain's flagged ones plus 2% of them.
            allowedFlagged = retrain.flaggedAt1pctFpr.count + Int((0.02 * Double(figures.positives)).rounded(.down))
            allowance = String(format: "the retrain's %.1f%% + 2 points", 100 * retrain.tprAt1pctFpr)
        } else {
            allowedFlagged = Self.chanceLimit(samples: figures.positives, rate: 0.01, pValue: 0.01)
            allowance = "what chance flags at 1% FPR (p < 0.01)"
        }
        exposed = figures.flaggedAt1pctFpr.count > allowedFlagged
    }

    public var flagged: Int { figures.flaggedAt1pctFpr.count }

    /// One line for the console and the reports.
    public var summary: String {
        "\(flagged) of \(forgetSamples) forget samples remain distinguishable at 1% FPR "
            + String(format: "(TPR %.1f%%, AUC %.3f; ", 100 * figures.tprAt1pctFpr, figures.auc)
            + (exposed ? "more than the \(allowedFlagged) allowed by \(allowance)" : "within \(allowance)")
            + ")"
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
