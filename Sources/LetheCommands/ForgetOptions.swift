import ArgumentParser
import Jobs
import Unlearning

/// The forget selection flags shared by every command that forgets or verifies forgetting.
struct ForgetOptions: ParsableArguments {
    @Option(help: "Forget every training sample of these classes, e.g. 0 or 0,6.")
    var forgetClasses: String?
    @Option(help: "Forget a stratified random fraction of the training set (with --seed), e.g. 0.1.")
    var forgetFraction: Double?
    @Option(help: "Forget the training indices listed in this file, one per line.")
    var forgetIndices: String?
    @Option(
        help:
            "Regression: forget every training sample whose target lies in LOW...HIGH, e.g. 0.5...1 (for fashion-mnist-rotation, angles of 30° to 60°)."
    )
    var forgetTargets: String?
    /// Forgets the mislabelled samples of a model trained with these swapped labels.
    @OptionGroup var confusion: ConfusionOptions

    func validate() throws {
        let given = [
            forgetClasses != nil, forgetFraction != nil, forgetIndices != nil, forgetTargets != nil, confusion.isGiven,
        ]
        .filter { $0 }.count
        guard given == 1 else {
            throw ValidationError(
                "give exactly one of --forget-classes, --forget-fraction, --forget-indices, --forget-targets and --confuse-classes"
            )
        }
        if let forgetFraction, !(forgetFraction > 0 && forgetFraction < 1) {
            throw ValidationError("--forget-fraction must be between 0 and 1 (got \(forgetFraction))")
        }
        if let forgetTargets { _ = try Self.targetRange(forgetTargets) }
    }

    /// What the flags select, without reading anything.
    var kind: ForgetSelection.Kind {
        if forgetClasses != nil { return .classes }
        return confusion.isGiven ? .confusion : .samples
    }

    /// LOW...HIGH as two finite numbers, LOW ≤ HIGH.
    static func targetRange(_ text: String) throws -> (Float, Float) {
        let parts = text.components(separatedBy: "...")
        guard parts.count == 2, let lower = Float(parts[0]), let upper = Float(parts[1]), lower.isFinite,
            upper.isFinite, lower <= upper
        else { throw ValidationError("--forget-targets takes LOW...HIGH with LOW ≤ HIGH, e.g. 0.5...1 (got \(text))") }
        return (lower, upper)
    }

    /// The selection, reading the index file if one was given.
    func selection(seed: UInt64, trainingSamples: Int) throws -> ForgetSelection {
        if let forgetClasses { return .classes(try parseClassList(forgetClasses, option: "--forget-classes")) }
        if let forgetFraction { return .fraction(forgetFraction, seed: seed) }
        if let forgetTargets {
            let (lower, upper) = try Self.targetRange(forgetTargets)
            return .targetRange(lower: lower, upper: upper)
        }
        if let (classes, count) = try confusion.classesAndCount() { return .confusion(classes: classes, count: count) }
        return .indices(try readIndexFile(forgetIndices!, count: trainingSamples))
    }
}

/// The confusion scenario: `lethe train` swaps the labels, `unlearn` and `metrics` forget those samples.
struct ConfusionOptions: ParsableArguments {
    @Option(help: "Confusion scenario: the two classes whose labels are swapped, e.g. 3,5.")
    var confuseClasses: String?
    @Option(help: "With --confuse-classes: how many labels of each class are swapped (chosen by the training seed).")
    var confuseCount: Int?

    var isGiven: Bool { confuseClasses != nil }

    func validate() throws {
        if (confuseClasses == nil) != (confuseCount == nil) {
            throw ValidationError("--confuse-classes and --confuse-count go together")
        }
        if let confuseCount, confuseCount < 1 { throw ValidationError("--confuse-count must be at least 1") }
    }

    func classesAndCount() throws -> (classes: [Int], count: Int)? {
        guard let confuseClasses, let confuseCount else { return nil }
        return (try parseClassList(confuseClasses, option: "--confuse-classes"), confuseCount)
    }
}
