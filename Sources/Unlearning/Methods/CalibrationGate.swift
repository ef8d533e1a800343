/// The per-sample gate of `calibrated-relabel`: which forget samples still look like training samples.
///
/// A model that never saw the forget set would give its samples losses distributed like those of held-out
/// samples. So the forget samples are ranked by their current loss and the sample of rank r (of n) is given the
/// held-out loss at quantile (r + ½) / n as its target (linear interpolation between the sorted held-out losses,
/// `quantile`). A sample is active — still pushed away from its label — while its loss is below its target
/// and the target is above `minimumTarget`: only the samples whose counterparts held-out samples are (nearly)
/// misclassified are pushed, the rest keep the confidence an unseen sample would have too.
public enum CalibrationGate {
    /// Each forget sample's target loss (in the order of `forgetLosses`). Ties in the ranking keep the samples'
    /// order, so the result is deterministic.
    public static func targets(forgetLosses: [Float], heldOutLosses: [Float]) -> [Double] {
        precondition(!heldOutLosses.isEmpty, "targets need held-out losses")
        let sortedHeldOut = heldOutLosses.map(Double.init).sorted()
        let ranked = forgetLosses.indices.sorted { (forgetLosses[$0], $0) < (forgetLosses[$1], $1) }
        var targets = [Double](repeating: 0, count: forgetLosses.count)
        for (rank, position) in ranked.enumerated() {
            targets[position] = quantile(sortedHeldOut, (Double(rank) + 0.5) / Double(forgetLosses.count))
        }
        return targets
    }

    /// The value at quantile q ∈ [0, 1] of ascending `sorted` values: linear interpolation at position q·(m − 1).
    public static func quantile(_ sorted: [Double], _ q: Double) -> Double {
        precondition(!sorted.isEmpty, "the quantile of nothing")
        let position = min(max(q, 0), 1) * Double(sorted.count - 1)
        let lower = Int(position.rounded(.down))
        let upper = min(lower + 1, sorted.count - 1)
        return sorted[lower] + (position - Double(lower)) * (sorted[upper] - sorted[lower])
    }

    /// Positions (into `losses`) of the active samples: loss below target and target above `minimumTarget`.
    public static func active(losses: [Float], targets: [Double], minimumTarget: Double) -> [Int] {
        precondition(losses.count == targets.count, "one target per loss")
        return losses.indices.filter { targets[$0] > minimumTarget && Double(losses[$0]) < targets[$0] }
    }

    /// For class forgetting (a model that never saw a class gets none of its samples right): the samples still
    /// predicted as their label.
    public static func stillPredicted(labels: [Int], predicted: [Int]) -> [Int] {
        labels.indices.filter { labels[$0] == predicted[$0] }
    }
}
