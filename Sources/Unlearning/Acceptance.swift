import Foundation

/// What a finished run must show before it is called a success: the forget set at or below the forget target,
/// and the rest of the model within a budget of the original. Every method takes these parameters besides its
/// own (`UnlearningMethod.allParameters`); a method's own declaration of a key (SSD's `max-retain-drop`) wins.
public enum Acceptance {
    public static let declarations: [MethodParameters.Declaration] = [
        .init(
            "max-retain-drop", "0.05", "Retain accuracy the result may lose (0.05: 5 points)",
            .unitInterval),
        .init(
            "max-test-drop", "0.05",
            "Test accuracy (of the retained classes) the result may lose",
            .unitInterval),
        .init("keep-failed", "false", "Write the model even when the run misses a target (it still exits 1)"),
        .init(
            "verify-retain", "-1",
            "Retained samples the verification predicts: -1 (automatic) a seeded sample of 10000 for a classifier, every one for regression; 0 for all; N for a seeded sample of N (the same before and after; the report gives the retain accuracy's 95% margin)",
            .automaticOr(.count(0...UnlearningLimits.samples))),
    ]

    /// The classifier's retain sample when `verify-retain` is automatic: ±1 point at worst (95%, accuracy 50%),
    /// ±0.5 at 92%; the forget set, validation and test sets are predicted whole whatever it is.
    public static let automaticRetainSample = 10_000

    /// How many retained samples a classifier's verification predicts (0: all), from `verify-retain`.
    public static func retainSample(_ parameters: MethodParameters) -> Int {
        let requested = parameters.int("verify-retain")
        return requested < 0 ? automaticRetainSample : requested
    }

    /// How many standard errors a sample scenario's forget accuracy may lie above its held-out target: a model
    /// that never saw the forget samples scores the held-out accuracy only up to sampling noise.
    public static let standardErrors = 2.0

    /// The forget target the run is judged by, with where it came from. `heldOut` is the original's accuracy on
    /// held-out samples like the forget set (`ForgetTarget.heldOutAccuracy`) and how many there were; nil when
    /// the scenario forgets classes or `stop-accuracy` fixes the target.
    public static func forgetTarget(
        _ parameters: MethodParameters, forgetSet: ForgetSet, heldOut: (accuracy: Double, samples: Int, source: String)?
    ) -> Verdict.Target? {
        if let stop = parameters.values["stop-accuracy"].flatMap(Double.init), stop >= 0 {
            return Verdict.Target(accuracy: stop, tolerance: 0, source: "stop-accuracy")
        }
        if forgetSet.forgottenClasses != nil {
            return Verdict.Target(accuracy: ForgetTarget.classDefault, tolerance: 0, source: "classes")
        }
        guard let heldOut, heldOut.samples > 0, !forgetSet.forget.isEmpty else { return nil }
        let p = heldOut.accuracy
        let error = (p * (1 - p) * (1 / Double(heldOut.samples) + 1 / Double(forgetSet.forget.count))).squareRoot()
        return Verdict.Target(accuracy: p, tolerance: standardErrors * error, source: heldOut.source)
    }

    /// Judges the run from the verification before and after it.
    public static func judge(
        before: VerificationReport, after: VerificationReport, target: Verdict.Target?, parameters: MethodParameters
    ) -> Verdict {
        let maxRetainDrop = Double(parameters.float("max-retain-drop"))
        let maxTestDrop = Double(parameters.float("max-test-drop"))
        let classes = before.testRetainAccuracy != nil
        let retainDrop = before.retainAccuracy - after.retainAccuracy
        let testDrop =
            (before.testRetainAccuracy ?? before.testAccuracy) - (after.testRetainAccuracy ?? after.testAccuracy)
        var misses: [String] = []
        let forgetMissed = target.map { after.forgetAccuracy > $0.accuracy + $0.tolerance } ?? false
        if let target, forgetMissed {
            misses.append(
                String(
                    format: "forget accuracy %.1f%% is above the forget target %.1f%%%@ (%@; before: %.1f%%)",
                    100 * after.forgetAccuracy, 100 * target.accuracy,
                    target.tolerance > 0
                        ? String(format: " + %.1f points of sampling noise", 100 * target.tolerance) : "",
                    target.source, 100 * before.forgetAccuracy))
        }
        if retainDrop > maxRetainDrop {
            misses.append(
                String(
                    format: "retain accuracy fell %.1f points (%.1f%% → %.1f%%%@), more than max-retain-drop %.1f",
                    100 * retainDrop, 100 * before.retainAccuracy, 100 * after.retainAccuracy,
                    after.retainPopulation.map { " on \(after.retainSamples) of its \($0) samples" } ?? "",
                    100 * maxRetainDrop))
        }
        if testDrop > maxTestDrop {
            misses.append(
                String(
                    format: "test accuracy%@ fell %.1f points, more than max-test-drop %.1f",
                    classes ? " on the retained classes" : "", 100 * testDrop, 100 * maxTestDrop))
        }
        let damaged = retainDrop > maxRetainDrop || testDrop > maxTestDrop
        let hint: String? =
            switch (forgetMissed, damaged) {
            case (false, false): nil
            case (true, false):
                "the model still knows the forget set: give the method more room (a higher lr or more epochs) or try another method (`lethe methods`)"
            case (false, true):
                "the run damaged what it should keep: lower the method's lr or try a gentler method (e.g. neggrad+ or scrub)"
            case (true, true):
                "this method does not fit this forget set at these settings: try another method (`lethe methods`)"
            }
        return Verdict(
            passed: misses.isEmpty, forgetTarget: target, forgetAccuracy: after.forgetAccuracy, retainDrop: retainDrop,
            maxRetainDrop: maxRetainDrop, testDrop: testDrop, maxTestDrop: maxTestDrop, misses: misses, hint: hint)
    }
}

/// Whether a run met its targets, with the figures it was judged by (part of every report).
public struct Verdict: Sendable, Codable, Equatable {
    public struct Target: Sendable, Codable, Equatable {
        /// The forget accuracy to reach (a fraction).
        public var accuracy: Double
        /// How far above it a result still passes (sampling noise of a held-out estimate).
        public var tolerance: Double
        /// Where it came from: "classes", "stop-accuracy", "validation" or "test-half".
        public var source: String
    }

    public var passed: Bool
    /// Nil when no held-out data could set one (the forget set is then not judged).
    public var forgetTarget: Target?
    public var forgetAccuracy: Double
    public var retainDrop: Double
    public var maxRetainDrop: Double
    public var testDrop: Double
    public var maxTestDrop: Double
    /// One sentence with the figures per target missed.
    public var misses: [String]
    public var hint: String?
    /// True for the retrain: the reference other runs are judged against, so not judged itself (its figures are
    /// what forgetting costs). Nil in older reports and for every other method.
    public var isReference: Bool?

    /// How a report's headline and verdict rows name a run of the reference method (classification or regression).
    public static let referenceOutcome = "ran as the reference (not judged) on"
    public static let referenceTargetRow = "forget target: none (this is the retrain other runs are judged against)"

    /// This verdict for a run of a reference method: passed, with no target and no misses.
    public func asReference() -> Verdict {
        var verdict = self
        verdict.passed = true
        verdict.forgetTarget = nil
        verdict.misses = []
        verdict.hint = nil
        verdict.isReference = true
        return verdict
    }
}

/// A run that missed its targets (exit 1): whether its model was written anyway.
public protocol MissedTargets: Error, CustomStringConvertible {
    var kept: Bool { get }
}

public struct TargetMissed: MissedTargets {
    public let method: String
    public let verdict: Verdict
    /// Whether the model was written anyway (`keep-failed=true`).
    public let kept: Bool

    public init(method: String, verdict: Verdict, kept: Bool) {
        self.method = method
        self.verdict = verdict
        self.kept = kept
    }

    public var description: String {
        (["\(method) missed its targets:"] + verdict.misses.map { "  - \($0)" }
            + [
                verdict.hint.map { "hint: \($0)" } ?? "",
                kept ? "the model was written anyway (keep-failed)" : "no model was written (--keep-failed writes it)",
            ])
            .filter { !$0.isEmpty }.joined(separator: "\n")
    }
}
