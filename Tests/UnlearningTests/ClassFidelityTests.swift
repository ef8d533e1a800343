import Testing

@testable import Unlearning

/// Per-class fidelity: every class's change, and retained classes that lost more than 3 points against the original
/// and the retrain flagged.
struct ClassFidelityTests {
    func close(_ a: Double?, _ b: Double) -> Bool { a.map { abs($0 - b) < 1e-12 } == true }

    @Test func retainedClassesThatLostMoreThanThreePointsAgainstBothReferencesAreFlagged() {
        let rows = ClassFidelity.compare(
            before: [0.90, 0.843, 0.95, nil, 0.897], after: [0.10, 0.701, 0.94, 0.5, 0.795],
            retrain: [0.0, 0.85, 0.98, 0.5, 0.742], forgotten: [0])
        // Class 3 has no test samples before: no row.
        #expect(rows.map(\.label) == [0, 1, 2, 4])
        // Class 0 is forgotten: losing it is the point.
        #expect(rows[0].forgotten && !rows[0].flagged)
        // Class 1 (pullovers) fell 14.2 points from the original and 14.9 below the retrain.
        #expect(rows[1].flagged && close(rows[1].change, -0.142) && close(rows[1].changeVsRetrain, -0.149))
        #expect(rows[1].summary == "class 1 −14.2 points vs original, −14.9 points vs retrain")
        // Class 2 lost 1 point against the original (4 against a retrain that gained): kept as it was.
        #expect(!rows[2].flagged && close(rows[2].change, -0.01))
        // Class 4 lost 10.2 points, but the retrain lost 15.5: retraining does that, not damage.
        #expect(!rows[3].flagged && close(rows[3].change, -0.102))
        // Without a retrain only the original counts, and exactly 3 points is not more than 3.
        let alone = ClassFidelity.compare(before: [0.90, 0.90], after: [0.87, 0.869])
        #expect(alone.map(\.flagged) == [false, true] && alone.allSatisfy { $0.retrain == nil })
    }

    /// Flagged against the original alone, the list says what a retrain would settle; with a retrain it does not.
    @Test func flaggedAgainstTheOriginalAloneSaysWhatARetrainWouldSettle() {
        let alone = ClassFidelity.compare(before: [0.90, 0.90], after: [0.10, 0.818], forgotten: [0]).filter(\.flagged)
        #expect(ClassFidelity.judgedAgainst(alone) == "the original")
        #expect(
            ClassFidelity.flaggedSummary(alone)
                == "class 1 −8.2 points vs original (retraining moves retained classes too: --reference <retrained weights> tells damage from that)"
        )
        let judged = ClassFidelity.compare(before: [0.9], after: [0.8], retrain: [0.9]).filter(\.flagged)
        #expect(ClassFidelity.flaggedSummary(judged) == "class 0 −10.0 points vs original, −10.0 points vs retrain")
    }
}
