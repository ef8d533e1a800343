/// A backdoor (trigger) attack by a malicious federated client, used to check that unlearning the client removes
/// what it planted: the client adds copies of some of its samples with a white square stamped in the bottom-right
/// corner, all labelled `target`. A model that learned the backdoor classifies triggered images as `target`.
public struct Backdoor: Sendable, Equatable {
    /// Poisoned copies added, as a fraction of the client's sample count, in (0, 1].
    public var fraction: Double
    /// The class triggered images are relabelled to (non-negative).
    public var target: Int
    /// The side of the square trigger in pixels (at least 1).
    public var patch: Int

    /// A backdoor with the given settings.
    /// - Precondition: `fraction` in (0, 1], `target ≥ 0`, `patch ≥ 1`.
    public init(fraction: Double = 0.1, target: Int = 0, patch: Int = 3) {
        precondition(fraction > 0 && fraction <= 1, "backdoor fraction must be in (0, 1], got \(fraction)")
        precondition(target >= 0, "backdoor target must not be negative, got \(target)")
        precondition(patch >= 1, "backdoor patch must be at least 1, got \(patch)")
        self.fraction = fraction
        self.target = target
        self.patch = patch
    }

    /// Parses comma-separated `key:value` pairs, e.g. `fraction:0.1,target:0,patch:3`, in any order. Missing keys
    /// take the defaults (fraction 0.1, target 0, patch 3).
    /// - Throws: `FederatedError.badBackdoor` for an empty spec, an unknown or repeated key, a value that is not a
    ///   number, or a value out of range (fraction in (0, 1], target ≥ 0, patch ≥ 1).
    public init(parsing text: String) throws(FederatedError) {
        guard !text.trimmingSpaces().isEmpty else { throw .badBackdoor(text: text, reason: "the spec is empty") }
        var values: [String: String] = [:]
        for entry in text.split(separator: ",", omittingEmptySubsequences: false) {
            let pair = entry.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            let key = pair[0].trimmingSpaces().lowercased()
            guard pair.count == 2 else {
                throw .badBackdoor(text: text, reason: "'\(entry.trimmingSpaces())' is not a key:value pair")
            }
            guard ["fraction", "target", "patch"].contains(key) else {
                throw .badBackdoor(text: text, reason: "unknown key '\(key)' (known: fraction, target, patch)")
            }
            guard values[key] == nil else { throw .badBackdoor(text: text, reason: "'\(key)' is given twice") }
            values[key] = pair[1].trimmingSpaces()
        }
        var fraction = 0.1
        if let value = values["fraction"] {
            guard let parsed = Double(value), parsed > 0 && parsed <= 1 else {
                throw .badBackdoor(text: text, reason: "fraction must be a number in (0, 1], got '\(value)'")
            }
            fraction = parsed
        }
        var target = 0
        if let value = values["target"] {
            guard let parsed = Int(value), parsed >= 0 else {
                throw .badBackdoor(text: text, reason: "target must be a class number ≥ 0, got '\(value)'")
            }
            target = parsed
        }
        var patch = 3
        if let value = values["patch"] {
            guard let parsed = Int(value), parsed >= 1 else {
                throw .badBackdoor(text: text, reason: "patch must be a whole number of pixels ≥ 1, got '\(value)'")
            }
            patch = parsed
        }
        self.init(fraction: fraction, target: target, patch: patch)
    }
}

extension Backdoor: CustomStringConvertible {
    /// `fraction:F,target:T,patch:P`, which `init(parsing:)` reads back to the same backdoor.
    public var description: String { "fraction:\(fraction),target:\(target),patch:\(patch)" }
}
