import Data
import Foundation
import NN
import Unlearning

/// Which held-out data steers a run — its forget target, stopping rules, rewinding and automatic choices
/// (DESIGN §5b) — given as `--holdout` on `unlearn`, `metrics` and `submit`.
public enum HoldoutSpec: Sendable, Equatable, Codable, CustomStringConvertible {
    /// The validation split the checkpoint records (the default when it records one).
    case validation
    /// A seeded, stratified half of the test set; every reported test figure then comes from the other half.
    case testHalf(seed: UInt64)

    /// The seed of `test-half` without one: fixed, so that every report of a scenario measures its test
    /// figures on the same half.
    public static let defaultSeed: UInt64 = 0
    public static let forms = "validation, test-half or test-half:SEED"

    /// Parses `validation`, `test-half` or `test-half:SEED`.
    public init(parsing text: String) throws(ScenarioError) {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        switch (parts.first, parts.count) {
        case ("validation", 1): self = .validation
        case ("test-half", 1): self = .testHalf(seed: Self.defaultSeed)
        case ("test-half", 2):
            guard let seed = UInt64(parts[1]) else {
                throw ScenarioError("--holdout test-half:SEED needs a whole number as its seed (got '\(parts[1])')")
            }
            self = .testHalf(seed: seed)
        default: throw ScenarioError("--holdout takes \(Self.forms) (got '\(text)')")
        }
    }

    public var description: String {
        switch self {
        case .validation: "validation"
        case .testHalf(let seed): seed == Self.defaultSeed ? "test-half" : "test-half:\(seed)"
        }
    }

    /// The stream a test-half draw is named by (`Dataset.stratifiedSample`).
    static let stream = "holdout-test-half"
}

/// Which data steered a run and which data its reported figures come from: the report's `holdout` object.
public struct Holdout: Sendable, Codable, Equatable {
    /// `validation`, `test-half` or `test-half:SEED`.
    public var spec: String
    /// `--holdout`, or `default` when the checkpoint decided.
    public var chosenBy: String
    /// Why the default was what it was (nil when `--holdout` chose).
    public var why: String?
    /// The held-out samples that set targets, stopping, rewinding and automatic choices (reported as
    /// `validation_*` figures).
    public var steering: Part
    /// The samples every `test_*` figure and the membership attack's non-members come from.
    public var reported: Part

    public struct Part: Sendable, Codable, Equatable {
        /// `validation` (the checkpoint's split of the training set) or `test`.
        public var source: String
        public var samples: Int
        /// For a part of the test set: which part, in words.
        public var half: String?
        /// For a part of the test set: SHA-256 of its test indices, ascending, in decimal, one per line.
        public var testIndicesSha256: String?
    }

    /// Where a forget target measured on the steering samples comes from (`Verdict.Target.source`).
    public var targetSource: String { steering.source == "test" ? "test-half" : "validation" }

    /// One line for the console and the text reports.
    public var summary: String {
        let steering =
            self.steering.source == "test"
            ? "\(self.steering.samples) test samples (\(self.steering.half ?? "")) steer the run; every test figure comes from the other \(reported.samples)"
            : "the checkpoint's validation split (\(self.steering.samples) samples) steers the run; test figures use all \(reported.samples) test samples"
        return "holdout \(spec)\(chosenBy == "default" ? " (default)" : ""): \(steering)"
            + (why.map { " — \($0)" } ?? "")
    }
}

extension Holdout {
    static func part(source: String, indices: [Int], half: String? = nil) -> Part {
        guard source == "test" else { return Part(source: source, samples: indices.count) }
        let text = indices.map(String.init).joined(separator: "\n")
        return Part(source: source, samples: indices.count, half: half, testIndicesSha256: sha256Hex(Data(text.utf8)))
    }
}
