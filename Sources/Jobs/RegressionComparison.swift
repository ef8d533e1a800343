import Foundation
import Unlearning

/// A regression run's evidence: the original, the unlearned model and (with `--reference`) the retrain, measured
/// alike, and the verdict. Forgetting is judged only against a retrain: the forget set's L1 error must move to
/// the retrain's — within `tolerance` of it, neither short of it nor beyond it (an error well above the retrain's
/// marks the forget set as surely as a low one) — the retain error must not rise by more than `maxRise` of the
/// original's, and the test error not by more than `maxRise` of the larger of the original's and the retrain's (a
/// forgotten target range is part of the test set too, so the retrain's own test error rises; without a retrain
/// the test error is therefore not judged). Without a retrain nothing says what "forgotten" looks like, and the report says
/// the run was not judged.
public struct RegressionComparison: Sendable, Codable, Equatable {
    public var before: RegressionEvaluation
    public var after: RegressionEvaluation
    /// The retrain's figures (`--reference`).
    public var reference: RegressionEvaluation?
    /// How far from the retrain's forget L1 still counts as reaching it (a fraction of it).
    public var tolerance: Double
    /// How much the retain and test L1 may rise (a fraction of the original's).
    public var maxRise: Double
    /// True for the retrain itself: the reference other runs are judged against, not judged (its retain error
    /// rising is the cost of forgetting, which is what it measures). Nil in older reports.
    public var isReference: Bool?
    /// Nil when not judged (no retrain to compare with, or this is the retrain).
    public var passed: Bool?
    public var misses: [String]

    public static let defaultTolerance = 0.1
    public static let defaultMaxRise = 0.25

    public init(
        before: RegressionEvaluation, after: RegressionEvaluation, reference: RegressionEvaluation?,
        tolerance: Double = defaultTolerance, maxRise: Double = defaultMaxRise, isReference: Bool = false
    ) {
        self.isReference = isReference ? true : nil
        self.before = before
        self.after = after
        self.reference = reference
        self.tolerance = tolerance
        self.maxRise = maxRise
        var misses: [String] = []
        if let reference {
            let (target, reached) = (reference.forget.l1, after.forget.l1)
            if reached < target * (1 - tolerance) {
                misses.append(
                    String(
                        format: "forget L1 %.4f stays below the retrain's %.4f by more than %.0f%%: not forgotten",
                        reached, target, 100 * tolerance))
            } else if reached > target * (1 + tolerance) {
                misses.append(
                    String(
                        format: "forget L1 %.4f goes beyond the retrain's %.4f by more than %.0f%%: over-forgotten",
                        reached, target, 100 * tolerance))
            }
        }
        var budgets = [("retain", before.retain.l1, after.retain.l1, "the original's")]
        if let reference {
            budgets.append(
                ("test", max(before.test.l1, reference.test.l1), after.test.l1, "the original's or retrain's"))
        }
        for (name, was, now, base) in budgets where now > was * (1 + maxRise) {
            misses.append(
                String(
                    format: "%@ L1 rose from %.4f to %.4f, more than %.0f%% of %@", name, was, now, 100 * maxRise, base)
            )
        }
        self.misses = isReference ? [] : misses
        passed = isReference ? nil : reference == nil ? (misses.isEmpty ? nil : false) : misses.isEmpty
    }

    /// What the summary's first line says the method did: "forgot" only when judged against a retrain and passed.
    public var outcome: String {
        if isReference == true { return Verdict.referenceOutcome }
        return switch passed {
        case .some(true): "forgot"
        case .some(false): "missed its targets forgetting"
        case nil: "ran (forgetting not judged: no --reference retrain) on"
        }
    }

    /// Console rows: L1 and MSE before, after and for the retrain, the attack, the verdict.
    public var rows: [String] {
        func cell(_ value: Double?) -> String { value.map { String(format: "%9.4f", $0) } ?? "        –" }
        var rows = ["                       before     after   retrain"]
        let sets: [(String, KeyPath<RegressionEvaluation, RegressionFigures>)] = [
            ("forget", \.forget), ("retain", \.retain), ("test", \.test),
        ]
        for (name, path) in sets {
            rows.append(
                "\(name) L1".padding(toLength: 20, withPad: " ", startingAt: 0)
                    + "\(cell(before[keyPath: path].l1)) \(cell(after[keyPath: path].l1)) \(cell(reference?[keyPath: path].l1))"
            )
            rows.append(
                "\(name) MSE".padding(toLength: 20, withPad: " ", startingAt: 0)
                    + "\(cell(before[keyPath: path].mse)) \(cell(after[keyPath: path].mse)) \(cell(reference?[keyPath: path].mse))"
            )
        }
        rows.append("MIA (forget as member)" + "\(cell(before.mia)) \(cell(after.mia)) \(cell(reference?.mia))")
        if isReference == true {
            rows.append(Verdict.referenceTargetRow)
        } else if let reference {
            rows.append(
                String(
                    format: "forget target: the retrain's L1 %.4f ± %.0f%%: %@", reference.forget.l1, 100 * tolerance,
                    passed == true ? "reached, and retain/test within budget" : "missed"))
        } else {
            rows.append("forget target: none (give --reference with a retrained model); forgetting was not judged")
        }
        return rows + misses.map { "missed: \($0)" }
    }
}

/// A regression run that missed its targets: `lethe unlearn` exits 1 with it after writing the report.
public struct RegressionTargetMissed: MissedTargets {
    public let method: String
    public let misses: [String]
    public let kept: Bool

    public var description: String {
        (["\(method) missed its targets:"] + misses.map { "  - \($0)" }
            + [kept ? "the unlearned model was written anyway (keep-failed)" : "no model was written"])
            .joined(separator: "\n")
    }
}
