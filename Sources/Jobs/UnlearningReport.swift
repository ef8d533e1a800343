import Foundation
import Unlearning

/// The JSON report of `lethe unlearn`.
public struct UnlearningReport: Codable {
    public let method: String
    public let params: [String: String]
    public let model: String
    public let weights: String
    public let inputSha256: String
    public let forget: ForgetDescription
    public let seed: UInt64
    public let shards: Int
    /// Wall time of the method itself (not of the verification).
    public let seconds: Double
    /// Classification figures of the original and the unlearned model (nil for a regression model).
    public let before: VerificationReport?
    public let after: VerificationReport?
    /// A regression model's figures and verdict (nil for a classifier).
    public var regression: RegressionComparison? = nil
    public let outputSha256: String
    /// Where the unlearned weights were written (`lethe result` puts the path it wrote them to).
    public var out: String
    public let reference: String?
    public let dataTouched: DataTouched
    /// With a reference: relearn steps of the unlearned and the reference model, and their ratio (AIN).
    public let anamnesis: Anamnesis?
    /// Each phase's log; a curve longer than 1,000 steps is kept as 1,000 means of consecutive steps.
    public let phases: [PhaseLog]
    /// `scrub+r`: the epoch it rewound to.
    public let chosenEpoch: Int?
    /// `ssd`: the α it dampened with and, when `alpha=auto` searched, what the search measured.
    public let chosenAlpha: ChosenAlpha?
    /// `gkt`: the checkpoint its leak guard returned and why (nil for other methods and in older reports).
    public let leakGuard: LeakGuardChoice?
    /// Whether the run met its targets, with the figures it was judged by (nil in reports of older versions).
    public private(set) var verdict: Verdict?
    /// Which held-out data steered the run and which data the reported test figures come from (nil in reports
    /// of older versions).
    public let holdout: Holdout?
    /// How the images were preprocessed and where that came from (nil in reports of older versions).
    public let preprocessing: Preprocessing?
    /// Which method ran and why: named with `--method` or chosen for the selection (nil in older reports).
    public let methodChoice: MethodChoice?
    /// Each class's test accuracy before, after and in the retrain (with `--reference`), flagging retained classes
    /// that lost more than 3 points (nil in older reports).
    public let perClass: [ClassFidelity]?
    public let blas: String
    /// With `--references` on listed or random samples: the held-out stand-ins that set the forget target and
    /// steered the method, matched to the forget samples' difficulty (nil otherwise and in older reports).
    public let difficultyMatch: DifficultyMatch?
    /// Work an earlier run on the same inputs had done and this one reused (nil: none).
    public let reused: [String]?
    /// The membership audit of the unlearned model, when references were given (`--references`).
    public private(set) var audit: AuditVerdict? = nil
    /// The signed certificate of the run, when one was asked for (`--certificate`).
    public var certificate: CertificateReference? = nil
    /// Where the run's wall time went (nil in older reports).
    public var timings: RunTimings? = nil

    /// Adds the membership audit; a forget set still exposed is a missed target like any other.
    public mutating func judge(by audit: AuditVerdict) {
        self.audit = audit
        guard audit.exposed, var verdict, verdict.isReference != true else { return }
        verdict.passed = false
        verdict.misses.append("membership audit: \(audit.summary)")
        self.verdict = verdict
    }

    /// The run as an error when it missed a target (after its report is written), else nil.
    public var missedTargets: (any MissedTargets)? {
        if let regression {
            guard regression.passed == false else { return nil }
            return RegressionTargetMissed(
                method: method, misses: regression.misses, kept: params["keep-failed"] == "true")
        }
        guard let verdict, !verdict.passed else { return nil }
        return TargetMissed(method: method, verdict: verdict, kept: params["keep-failed"] == "true")
    }

    /// What the first line of the summary says the method did: only a run judged against a forget target and
    /// passing "forgot".
    public var outcome: String {
        if let regression { return regression.outcome }
        guard let verdict else { return "forgot" }
        if verdict.isReference == true { return Verdict.referenceOutcome }
        if !verdict.passed { return "missed its targets forgetting" }
        return verdict.forgetTarget == nil ? "ran (forgetting not judged) on" : "forgot"
    }

    public var summary: String {
        let headline =
            "\(method) \(outcome) \(forget.selection) in \(String(format: "%.1f", seconds))s (\(forget.forgetSamples) forget, \(forget.retainSamples) retain samples)"
        guard let before, let after else {
            var rows = [headline] + (regression?.rows ?? [])
            if let anamnesis { rows.append(anamnesis.summary) }
            if let certificate { rows.append(certificate.summary) }
            if let timings { rows.append(timings.summary) }
            if let holdout { rows.append(holdout.summary) }
            if missedTargets == nil || params["keep-failed"] == "true" {
                rows.append("wrote \(out) (sha256 \(outputSha256))")
            }
            return rows.joined(separator: "\n")
        }
        var rows = [
            headline,
            "                      before     after",
            "forget accuracy      \(percent(before.forgetAccuracy))   \(percent(after.forgetAccuracy))",
            "retain accuracy      \(percent(before.retainAccuracy))   \(percent(after.retainAccuracy))",
            "test accuracy        \(percent(before.testAccuracy))   \(percent(after.testAccuracy))",
        ]
        if let sampled = after.retainSampleSummary { rows.insert("  \(sampled)", at: rows.count - 1) }
        if before.testForgetAccuracy != nil {
            rows.append(
                "test, forgotten      \(percent(before.testForgetAccuracy))   \(percent(after.testForgetAccuracy))")
            rows.append(
                "test, other classes  \(percent(before.testRetainAccuracy))   \(percent(after.testRetainAccuracy))")
        }
        if before.validationAccuracy != nil {
            rows.append(
                "validation           \(percent(before.validationAccuracy))   \(percent(after.validationAccuracy))")
        }
        if before.validationForgetAccuracy != nil {
            rows.append(
                "validation, forgotten \(percent(before.validationForgetAccuracy))  \(percent(after.validationForgetAccuracy))"
            )
            rows.append(
                "validation, others   \(percent(before.validationRetainAccuracy))   \(percent(after.validationRetainAccuracy))"
            )
        }
        if let confusion = before.confusion, let afterConfusion = after.confusion {
            let (a, b) = (confusion.classes[0], confusion.classes[1])
            rows.append(
                "test \(a)→\(b) / \(b)→\(a)         \(confusion.aPredictedAsB) / \(confusion.bPredictedAsA)      \(afterConfusion.aPredictedAsB) / \(afterConfusion.bPredictedAsA)"
            )
        }
        let damaged = (perClass ?? []).filter(\.flagged)
        if !damaged.isEmpty {
            rows.append(
                "retained classes more than \(Int(100 * ClassFidelity.flagThreshold)) points below \(ClassFidelity.judgedAgainst(damaged)): "
                    + ClassFidelity.flaggedSummary(damaged))
        }
        rows.append("MIA (loss)           \(percent(before.mia))   \(percent(after.mia))")
        rows.append("MIA (entropy)        \(percent(before.miaEntropy))   \(percent(after.miaEntropy))")
        rows.append(String(format: "ZRF                   %.4f    %.4f", before.zrf, after.zrf))
        if let distance = after.activationDistance, let js = after.jsDivergence {
            rows.append(String(format: "vs reference          activation distance %.4f, JS %.4f (after)", distance, js))
        }
        if let anamnesis { rows.append(anamnesis.summary) }
        if let chosenEpoch { rows.append("rewound to epoch \(chosenEpoch)") }
        if let chosenAlpha { rows.append(chosenAlpha.summary) }
        if let leakGuard { rows.append(leakGuard.summary) }
        if let difficultyMatch { rows.append(difficultyMatch.summary) }
        if let certificate { rows.append(certificate.summary) }
        if let reused { rows.append("reused: " + reused.joined(separator: "; ")) }
        if let timings { rows.append(timings.summary) }
        if let verdict, let target = verdict.forgetTarget {
            rows.append(
                String(
                    format: "forget target %.1f%%%@ (%@): %@", 100 * target.accuracy,
                    target.tolerance > 0 ? String(format: " + %.1f points", 100 * target.tolerance) : "", target.source,
                    verdict.passed ? "met, and the rest within budget" : "missed"))
        } else if verdict?.isReference == true {
            rows.append(Verdict.referenceTargetRow)
        } else if verdict != nil {
            rows.append("forget target: none (no held-out samples like the forget set); forgetting was not judged")
        }
        rows += (verdict?.misses ?? []).map { "missed: \($0)" }
        if let audit { rows.append("membership audit: \(audit.summary)") }
        if let holdout { rows.append(holdout.summary) }
        if let preprocessing, preprocessing.note != nil { rows.append(preprocessing.summary) }
        if let methodChoice, methodChoice.chosenBy == "default" {
            rows.append("method \(methodChoice.method) (default): \(methodChoice.reason)")
        }
        if missedTargets == nil || params["keep-failed"] == "true" {
            rows.append("wrote \(out) (sha256 \(outputSha256))")
        }
        return rows.joined(separator: "\n")
    }
}

/// Where a run's certificate is and its digest (sha256 of the signed bytes), and how to check it.
public struct CertificateReference: Codable, Equatable {
    public let file: String
    public let digest: String
    public let verify: String

    public init(file: String, digest: String) {
        self.file = file
        self.digest = digest
        verify = "lethe certificate verify \(file) --public-key signing.pub --weights OUTPUT.safetensors"
    }

    public var summary: String { "certificate \(file), digest \(digest): check it with \(verify)" }
}

public struct ChosenAlpha: Codable {
    public let alpha: Double
    /// When `alpha=auto` searched: the accuracy on its checked forget samples, the target it had to get below,
    /// the accuracy its checked retain samples lost, and the retained class that lost the most (what it judged).
    public let checkedForgetAccuracy: Double?
    public let target: Double?
    public let checkedRetainDrop: Double?
    public let checkedWorstClass: Int?
    public let checkedWorstClassDrop: Double?

    public init?(_ scalars: [String: Double]) {
        guard let alpha = scalars[SSD.chosenAlpha] else { return nil }
        self.alpha = alpha
        checkedForgetAccuracy = scalars[SSD.checkedForgetAccuracy]
        target = checkedForgetAccuracy == nil ? nil : scalars[ForgetTarget.key]
        checkedRetainDrop = scalars[SSD.checkedRetainDrop]
        checkedWorstClass = scalars[SSD.checkedWorstClass].map(Int.init)
        checkedWorstClassDrop = scalars[SSD.checkedWorstClassDrop]
    }

    public var summary: String {
        let dampened = String(format: "dampened with α %g", alpha)
        guard let checkedForgetAccuracy, let target, let checkedRetainDrop else { return dampened }
        return dampened
            + String(
                format:
                    " (alpha=auto): checked forget accuracy %.1f%% < target %.1f%%, checked retain accuracy %+.1f points",
                100 * checkedForgetAccuracy, 100 * target, -100 * checkedRetainDrop)
            + (checkedWorstClass.flatMap { label in
                checkedWorstClassDrop.map { String(format: " (worst class %d: %+.1f points)", label, -100 * $0 + 0) }
            } ?? "")
    }
}

public struct ForgetDescription: Codable {
    public let selection: String
    /// The selection without its seed (for grouping runs of several seeds).
    public let scenario: String?

    public var group: String { scenario ?? selection }
    public let forgetSamples: Int
    public let retainSamples: Int
    public let validationSamples: Int
    public let classes: [Int]?
}

/// A fraction as a fixed-width percentage for text tables ("–" when absent).
public func percent(_ value: Double?) -> String { value.map { String(format: "%6.2f%%", 100 * $0) } ?? "     –" }

extension Anamnesis {
    /// A relearn step count, or ">maximum" for a model that did not relearn within the budget.
    public func describe(_ steps: Int?) -> String { steps.map(String.init) ?? ">\(maximumSteps)" }

    /// The report's line: both step counts and the index.
    public var summary: String {
        "relearn steps         \(describe(steps)) (reference \(describe(referenceSteps))), AIN \(String(format: "%.2f", index))"
    }
}

/// How many samples of each set the method read.
public struct DataTouched: Codable {
    public let forget: Int
    public let retain: Int
    public let validation: Int
}
