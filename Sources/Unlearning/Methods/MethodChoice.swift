/// Which method a run uses and why: given with `--method`, or the recommended one for the kind of selection
/// (the report's `method_choice`).
public struct MethodChoice: Sendable, Codable, Equatable {
    public var method: String
    /// `--method`, or `default` when the selection chose.
    public var chosenBy: String
    public var reason: String

    /// A method the user named.
    public static func given(_ method: String) -> MethodChoice {
        MethodChoice(method: method, chosenBy: "--method", reason: "named with --method")
    }

    /// The recommended method for a kind of selection (docs/RESULTS.md has the measurements behind each).
    public static func recommended(for kind: ForgetSelection.Kind) -> MethodChoice {
        switch kind {
        case .classes:
            MethodChoice(
                method: "scrub", chosenBy: "default",
                reason:
                    "forgetting classes: scrub forgets them completely and keeps the other classes at or above retraining, about 20 times faster"
            )
        case .samples:
            MethodChoice(
                method: "calibrated-relabel", chosenBy: "default",
                reason:
                    "forgetting listed or random samples: calibrated-relabel pushes each one only until it looks like a held-out sample, as a retrain would see it, keeping test accuracy; at least 10x faster than retraining"
            )
        case .confusion:
            MethodChoice(
                method: "scrub", chosenBy: "default",
                reason:
                    "forgetting mislabelled samples: scrub ends within two points of retraining on the swapped labels without harm to the test accuracy"
            )
        }
    }
}

extension ForgetSelection {
    /// What a selection forgets, for choosing a method.
    public enum Kind: String, Sendable, Codable {
        case classes
        case samples
        case confusion
    }

    public var kind: Kind {
        switch self {
        case .classes: .classes
        case .fraction, .indices, .targetRange: .samples
        case .confusion: .confusion
        }
    }
}
