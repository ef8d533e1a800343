import Foundation
import Testing
import Unlearning

struct ScoreHistogramTests {
    /// Scores by hand: range [−1, 3] in 4 bins of width 1; the top score falls in the last bin, ±∞ in the end bins,
    /// NaN nowhere.
    @Test func binsCountEachSideOverTheCommonRange() {
        let histogram = ScoreHistogram(
            forget: [3, 2.5, 0.2, .infinity], heldOut: [-1, -0.5, 0, 0.99, 1, -.infinity, .nan], bins: 4)
        #expect(zip(histogram.edges, [-1, 0, 1, 2, 3]).allSatisfy { abs($0 - $1) < 1e-12 })
        #expect(histogram.forget == [0, 1, 0, 3])
        #expect(histogram.heldOut == [3, 2, 1, 0])
    }

    @Test func aSingleValueGetsAUnitWideRange() {
        let histogram = ScoreHistogram(forget: [2, 2], heldOut: [2], bins: 2)
        #expect(zip(histogram.edges, [1.5, 2, 2.5]).allSatisfy { abs($0 - $1) < 1e-12 })
        #expect(histogram.forget == [0, 2] && histogram.heldOut == [0, 1])
    }
}
