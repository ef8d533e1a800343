import Jobs
import Testing
import Unlearning

/// How a report states gkt's leak-guard choice.
struct LeakGuardChoiceTests {
    @Test func saysWhichCheckpointWasReturnedAndWhichLeaked() throws {
        let scalars: [String: Double] = [
            GKT.lastCheckpoint: 150, GKT.returnedCheckpoint: 100, GKT.returnedScore: 0.0125, GKT.firstLeak: 150,
            GKT.probeSize: 80, ForgetTarget.key: 0.05, GKT.checkpointScorePrefix + "50": 0.3,
            GKT.checkpointScorePrefix + "100": 0.0125, GKT.checkpointScorePrefix + "150": 0.75,
        ]
        let choice = try #require(LeakGuardChoice(scalars))
        #expect(choice.checkpoints.map(\.pseudoBatches) == [50, 100, 150])
        #expect(
            choice.summary.contains("returned the checkpoint at 100 of 150 pseudo-batches (1.2% of a 80-image probe"))
        #expect(choice.summary.contains("the checkpoint at 150 leaked (75.0%)"))
        #expect(LeakGuardChoice([:]) == nil)
        let none = try #require(LeakGuardChoice([GKT.lastCheckpoint: 50, GKT.checkpointScorePrefix + "50": 0.3]))
        #expect(none.summary.contains("no checkpoint's probe stayed under the target 5.0%"))
        var off = scalars
        off[GKT.guardOff] = 1
        let unguarded = try #require(LeakGuardChoice(off))
        #expect(unguarded.guardOff)
        #expect(
            unguarded.summary.contains(
                "returned the last state (150 pseudo-batches, its probe 75.0%); on, it would have returned the checkpoint at 100"
            ))
    }
}
