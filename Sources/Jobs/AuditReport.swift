import Foundation
import Unlearning

/// What `lethe audit` reports: the audited model's figures at the top level (`auc`, `tpr_at_1pct_fpr`, …, as
/// fractions), the same for the original and a retrain when given, and the forget samples still flagged.
public struct AuditReport: Encodable {
    public let weights: String
    public let forget: String
    public let references: String
    public let referenceCount: Int
    public let referenceSeed: UInt64
    /// Whether the references' recipe was checked against a recorded one (PyTorch checkpoints record none).
    public let recipeChecked: Bool
    public let forgetSamples: Int
    public let nonMembers: Int
    public let scoresFile: String?
    public let figures: AuditFigures
    /// Training indices of the forget samples flagged at 1% FPR.
    public let flagged: [Int]
    public let original: AuditFigures?
    public let retrain: AuditFigures?
    /// How the audited samples were preprocessed (and whether that was assumed), as in unlearning reports.
    public let preprocessing: Preprocessing?

    public var summary: String {
        "\(flagged.count) of \(forgetSamples) forget samples remain distinguishable at 1% FPR"
    }

    enum CodingKeys: String, CodingKey {
        case weights, forget, references, referenceCount, referenceSeed, recipeChecked, forgetSamples, nonMembers
        case scoresFile, flagged, original, retrain, summary, preprocessing
        case auc, onlineAuc
        case tprAt1PctFpr = "tpr_at_1pct_fpr", tprAt01PctFpr = "tpr_at_0_1pct_fpr"
        case onlineTprAt1PctFpr = "online_tpr_at_1pct_fpr", thresholdAt1PctFpr = "threshold_at_1pct_fpr"
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(weights, forKey: .weights)
        try container.encode(forget, forKey: .forget)
        try container.encode(references, forKey: .references)
        try container.encode(referenceCount, forKey: .referenceCount)
        try container.encode(referenceSeed, forKey: .referenceSeed)
        try container.encode(recipeChecked, forKey: .recipeChecked)
        try container.encode(forgetSamples, forKey: .forgetSamples)
        try container.encode(nonMembers, forKey: .nonMembers)
        try container.encodeIfPresent(scoresFile, forKey: .scoresFile)
        try container.encode(flagged, forKey: .flagged)
        try container.encodeIfPresent(original, forKey: .original)
        try container.encodeIfPresent(retrain, forKey: .retrain)
        try container.encode(summary, forKey: .summary)
        try container.encodeIfPresent(preprocessing, forKey: .preprocessing)
        try container.encode(figures.auc, forKey: .auc)
        try container.encode(figures.tprAt1pctFpr, forKey: .tprAt1PctFpr)
        try container.encode(figures.tprAt01pctFpr, forKey: .tprAt01PctFpr)
        try container.encodeIfPresent(figures.onlineAuc, forKey: .onlineAuc)
        try container.encodeIfPresent(figures.onlineTprAt1pctFpr, forKey: .onlineTprAt1PctFpr)
        try container.encodeIfPresent(figures.thresholdAt1pctFpr, forKey: .thresholdAt1PctFpr)
    }

    public func text(rows: [(name: String, figures: AuditFigures)]) -> String {
        var lines = [
            "membership audit of \(weights): \(forget), \(forgetSamples) forget samples against \(nonMembers) held-out "
                + "test samples, \(referenceCount) references (\(references))",
            "model      AUC     TPR@1%FPR  TPR@0.1%FPR  online AUC  online TPR@1%",
        ]
        for (name, figures) in rows {
            let figuresText = String(
                format: "%5.1f%%  %8.1f%%  %10.1f%%", 100 * figures.auc, 100 * figures.tprAt1pctFpr,
                100 * figures.tprAt01pctFpr)
            lines.append(
                name.padding(toLength: 9, withPad: " ", startingAt: 0) + "  " + figuresText + "  "
                    + percent(figures.onlineAuc).padding(toLength: 10, withPad: " ", startingAt: 0) + "  "
                    + percent(figures.onlineTprAt1pctFpr))
        }
        let listed = flagged.prefix(20).map(String.init).joined(separator: ", ") + (flagged.count > 20 ? ", …" : "")
        lines.append(summary + (flagged.isEmpty ? "" : " (training indices: \(listed))"))
        if let preprocessing, preprocessing.note != nil { lines.append(preprocessing.summary) }
        return lines.joined(separator: "\n")
    }

    private func percent(_ value: Double?) -> String { value.map { String(format: "%.1f%%", 100 * $0) } ?? "—" }
}
