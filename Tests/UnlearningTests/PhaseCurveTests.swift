import Testing

@testable import Unlearning

/// A report's loss curve keeps at most 1,000 points, each the mean of consecutive steps; short curves are kept.
struct PhaseCurveTests {
    func log(_ losses: [Double]) -> PhaseLog {
        PhaseLog(
            name: "p", losses: losses, rows: 0, correct: 0, meanLoss: 0, steps: losses.count,
            plannedSteps: losses.count, seconds: 1)
    }

    @Test func longCurvesBecomeMeansOfConsecutiveSteps() {
        let long = log((0..<10).map(Double.init)).curve(points: 4)
        #expect(long.losses.count == 4 && long.steps == 10)
        // Buckets of 3: (0,1,2), (3,4,5), (6,7,8), (9).
        for (value, expected) in zip(long.losses, [1.0, 4.0, 7.0, 9.0]) { #expect(abs(value - expected) < 1e-12) }
        #expect(log([1, 2, 3]).curve(points: 4).losses == [1, 2, 3])
        #expect(log(Array(repeating: 0.5, count: 44_000)).curve().losses.count == 1_000)
    }
}
