/// The ROC curve of a membership test: positives (samples that should not be recognised, e.g. the forget set)
/// against negatives (samples the model never saw), a sample called a member when its score is ≥ a threshold.
///
/// Every distinct score is a threshold, so tied scores enter together: the curve then moves diagonally and the
/// area counts a tied positive–negative pair as half (the Mann–Whitney statistic). NaN scores count as the least
/// member-like.
public struct ROCCurve: Sendable, Equatable {
    public struct Point: Sendable, Equatable {
        /// Samples with a score ≥ `threshold` are called members (+∞ at the curve's start: nobody is).
        public let threshold: Double
        public let falsePositiveRate: Double
        public let truePositiveRate: Double
    }

    /// From (0, 0) to (1, 1), thresholds descending.
    public let points: [Point]
    public let positives: Int
    public let negatives: Int

    public init(positives: [Double], negatives: [Double]) {
        self.positives = positives.count
        self.negatives = negatives.count
        let scored = (positives.map { ($0, true) } + negatives.map { ($0, false) })
            .map { (score: $0.0.isNaN ? -Double.infinity : $0.0, positive: $0.1) }
            .sorted { $0.score > $1.score }
        var points = [Point(threshold: .infinity, falsePositiveRate: 0, truePositiveRate: 0)]
        var (truePositives, falsePositives) = (0, 0)
        var index = 0
        while index < scored.count {
            let threshold = scored[index].score
            while index < scored.count && scored[index].score == threshold {
                if scored[index].positive { truePositives += 1 } else { falsePositives += 1 }
                index += 1
            }
            points.append(
                Point(
                    threshold: threshold, falsePositiveRate: Self.rate(falsePositives, of: negatives.count),
                    truePositiveRate: Self.rate(truePositives, of: positives.count)))
        }
        self.points = points
    }

    private static func rate(_ count: Int, of total: Int) -> Double { total == 0 ? 0 : Double(count) / Double(total) }

    /// The area under the curve (trapezoids, so ties count half): 0.5 when the test cannot tell the two groups
    /// apart, 1 when every positive scores above every negative. 0.5 when either group is empty.
    public var area: Double {
        guard positives > 0 && negatives > 0 else { return 0.5 }
        var area = 0.0
        for (a, b) in zip(points, points.dropFirst()) {
            area += (b.falsePositiveRate - a.falsePositiveRate) * (a.truePositiveRate + b.truePositiveRate) / 2
        }
        return area
    }

    /// The operating point for a false-positive budget: the highest TPR among the curve's points whose FPR is at
    /// most `rate`, without interpolating between points (LiRA's rule; conservative). With N negatives a budget
    /// below 1/N allows no false positive at all, so TPR at 1% FPR is only meaningful with 100 or more negatives.
    public func operatingPoint(atFalsePositiveRate rate: Double) -> Point {
        points.filter { $0.falsePositiveRate <= rate + 1e-12 }.max { $0.truePositiveRate < $1.truePositiveRate }!
    }

    public func truePositiveRate(atFalsePositiveRate rate: Double) -> Double {
        operatingPoint(atFalsePositiveRate: rate).truePositiveRate
    }
}
