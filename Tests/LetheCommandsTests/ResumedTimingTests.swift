import Coordinator
import Foundation
import Jobs
import LetheTesting
import NN
import Synchronization
import Testing
import Transport
import Unlearning

@testable import LetheCommands

/// A job resumed after a coordinator restart reports the time of the whole run, not only what came after the
/// restart: the seconds spent before it travel in the snapshot.
struct ResumedTimingTests {
    @Test func aResumedRunCountsTheSecondsBeforeTheRestart() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let cluster = try EmbeddedCluster(workers: 1, directory: directory.url)
        defer { cluster.stop() }
        let plan = Plan(phases: [
            LocalPhase(name: "first") { _ in }, LocalPhase(name: "second") { _ in Thread.sleep(forTimeInterval: 0.05) },
        ])
        let model = ModelZoo.fmnistMLP(seed: 1)
        let state = PlanState(student: model.copy(), optimizers: plan.makeOptimizers())
        // Interrupted after its first phase, 100 s into the run.
        let snapshot = PlanSnapshot(state, progress: RunProgress(phase: 1, step: 0), seconds: 100)
        let persisted = Mutex<[Double]>([])
        let execute = UnlearningRun.onWorkers(
            cluster.pool, job: "timing", shards: 1, datasetSHA256: String(repeating: "0", count: 64), labels: [],
            originalSHA256: String(repeating: "0", count: 64), architecture: "fmnist-mlp", progress: nil,
            snapshot: snapshot,
            persist: { _, make in
                let seconds = make().header.seconds
                persisted.withLock { $0.append(seconds ?? -1) }
            })
        let (_, _, earlierSeconds) = try await execute(plan, state)
        #expect(earlierSeconds == 100)
        let offered = persisted.withLock { $0 }
        #expect(!offered.isEmpty)
        #expect(offered.allSatisfy { $0 >= 100 && $0 < 160 }, "\(offered)")
        #expect(offered.last! >= 100.05)
    }
}
