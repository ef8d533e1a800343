import Coordinator
import Foundation
import Jobs
import LetheTesting
import Tensor
import Testing
import Transport
import Wire

struct CancelledWorkTests {
    /// Cancelling a job frees the workers computing its shards (`lethe workers` shows them idle), and a late result
    /// for a cancelled task neither counts nor is refused as hostile.
    @Test func cancellingAJobFreesItsWorkersAndLateResultsAreDropped() async throws {
        let fixture = try ClusterFixture()
        let hub = InMemoryHub()
        // The fake worker sends no heartbeats: a long liveness keeps it registered however starved the test process.
        var settings = fixture.poolSettings()
        settings.liveness = 3000
        let pool = WorkerPool(transport: hub.server, blobs: fixture.blobs, settings: settings)
        pool.start()
        defer { pool.stop() }
        let slow = hub.connect(key: "slow-worker")
        let tasks = Collected<Envelope<CoordinatorToWorker>>()
        let listener = Task {
            for await received in slow.incoming {
                if let envelope = try? WireCodec.decode(received.frames, as: CoordinatorToWorker.self),
                    case .shardTask = envelope.message
                {
                    tasks.append(envelope)
                }
            }
        }
        defer { listener.cancel() }
        slow.send(
            WireCodec.encode(
                Envelope(
                    WorkerToCoordinator.hello(
                        Hello(name: "slow", kernelIdentity: fixture.kernel, threads: 1, softwareVersion: "x")))
            ), to: nil)
        slow.send(WireCodec.encode(Envelope(WorkerToCoordinator.ready(credit: 2))), to: nil)
        let job = Task {
            try await DedicatedThread.run(name: "job") { try fixture.run(fixture.remoteExecutor(pool, shards: 2)) }
        }
        // Both shards sent and held by the slow worker (under load the pool may still be between the two).
        try await eventually { tasks.count >= 2 && pool.workerList.first?.inFlight == 2 }

        pool.cancel(job: "job-1")
        await #expect(throws: JobCancelled.self) { try await job.value }
        #expect(pool.workerList.first?.inFlight == 0)

        // The slow worker answers anyway: nothing is counted twice and inFlight stays at 0.
        for envelope in tasks.value {
            guard case .shardTask(let task) = envelope.message else { continue }
            let report = ShardReport(id: task.id, weightedLoss: 0, correct: [0], seconds: 0)
            slow.send(
                WireCodec.encode(Envelope(WorkerToCoordinator.shardResult(report), requestID: envelope.requestID)),
                to: nil)
        }
        slow.send(WireCodec.encode(Envelope(WorkerToCoordinator.heartbeat)), to: nil)
        try await Task.sleep(for: .milliseconds(200))
        let worker = try #require(pool.workerList.first)
        #expect(worker.inFlight == 0 && worker.tasksDone == 0)
        #expect(pool.refusalCounts["unknown task", default: 0] == 0)
        #expect(pool.resultCounts(job: "job-1").isEmpty)
    }
}
