/// A model's offline audit scores in common bins, forget samples and held-out samples apart (for the reports'
/// histogram): a forgotten set's bins lie on the held-out ones; an exposed one's lean to the right.
public struct ScoreHistogram: Sendable, Codable, Equatable {
    /// `bins + 1` ascending edges; scores beyond the ends count in the end bins.
    public let edges: [Double]
    public let forget: [Int]
    public let heldOut: [Int]

    /// Bins spanning every finite score (one unit wide around a single value).
    public init(forget forgetScores: [Double], heldOut heldOutScores: [Double], bins: Int = 24) {
        precondition(bins > 0, "a histogram needs bins")
        let finite = (forgetScores + heldOutScores).filter(\.isFinite)
        var (low, high) = (finite.min() ?? -0.5, finite.max() ?? 0.5)
        if high - low < 1e-9 { (low, high) = (low - 0.5, high + 0.5) }
        let width = (high - low) / Double(bins)
        edges = (0...bins).map { low + Double($0) * width }
        func counts(_ scores: [Double]) -> [Int] {
            var counts = [Int](repeating: 0, count: bins)
            for score in scores where !score.isNaN {
                let bin = score.isFinite ? Int(((score - low) / width).rounded(.down)) : (score > 0 ? bins - 1 : 0)
                counts[min(max(bin, 0), bins - 1)] += 1
            }
            return counts
        }
        forget = counts(forgetScores)
        heldOut = counts(heldOutScores)
    }
}
