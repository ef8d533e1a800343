/// Per-class fidelity (issue 14, item 5): averages hide damage (a method can keep the mean test accuracy of the
/// retained classes while one of them loses 14 points), so reports carry each class's test accuracy before and
/// after, and against a retrain when one is given, and flag every retained class that lost more than
/// `flagThreshold` against the original — and, when a retrain is given, against the retrain too. Retraining
/// itself moves retained classes: without T-shirts, a 5-epoch `fmnist-cnn` retrain lost 15.5, 7.1 and 10.7
/// points on one retained class against its original (seeds 1–3; docs/PERFORMANCE.md), so a class that lands
/// between the original and the retrain is what exact unlearning does, not damage.
public struct ClassFidelity: Sendable, Codable, Equatable {
    public let label: Int
    public let before: Double
    public let after: Double
    /// A retrain's accuracy on the class (with `--reference`).
    public let retrain: Double?
    /// Whether the class is forgotten (its loss is the point, not damage).
    public let forgotten: Bool
    /// A retained class that lost more than the threshold against the original (and the retrain, if given).
    public let flagged: Bool

    /// Change against the original (after − before), a fraction.
    public var change: Double { after - before }
    /// Change against the retrain (after − retrain), a fraction.
    public var changeVsRetrain: Double? { retrain.map { after - $0 } }

    public static let flagThreshold = 0.03

    /// One row per class with test samples, from per-class accuracies (nil: no test samples of that class).
    public static func compare(
        before: [Double?], after: [Double?], retrain: [Double?]? = nil, forgotten: [Int] = [],
        threshold: Double = flagThreshold
    ) -> [ClassFidelity] {
        before.indices.compactMap { label in
            guard let b = before[label], label < after.count, let a = after[label] else { return nil }
            let r = retrain.flatMap { label < $0.count ? $0[label] : nil }
            let isForgotten = forgotten.contains(label)
            let lost = a < b - threshold && r.map { a < $0 - threshold } != false
            return ClassFidelity(
                label: label, before: b, after: a, retrain: r, forgotten: isForgotten, flagged: !isForgotten && lost)
        }
    }

    /// What flagged classes were judged against: "the original and the retrain" or "the original".
    public static func judgedAgainst(_ rows: [ClassFidelity]) -> String {
        rows.contains { $0.retrain != nil } ? "the original and the retrain" : "the original"
    }

    /// The flagged classes' summaries; flagged against the original alone, with what that leaves open.
    public static func flaggedSummary(_ rows: [ClassFidelity]) -> String {
        rows.map(\.summary).joined(separator: ", ")
            + (rows.contains { $0.retrain != nil }
                ? ""
                : " (retraining moves retained classes too: --reference <retrained weights> tells damage from that)")
    }

    /// "class 2 −14.2 points vs original, −12.0 points vs retrain" for a flagged class.
    public var summary: String {
        var text = "class \(label) " + Self.points(change) + " vs original"
        if let changeVsRetrain { text += ", \(Self.points(changeVsRetrain)) vs retrain" }
        return text
    }

    static func points(_ change: Double) -> String {
        let value = 100 * change
        return (value < 0 ? "−" : "+") + String(format: "%.1f points", abs(value))
    }
}
