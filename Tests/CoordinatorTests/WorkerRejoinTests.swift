import Coordinator
import Foundation
import Jobs
import Testing
import Transport
import Unlearning
import Wire

struct WorkerRejoinTests {
    /// A worker the coordinator dropped (its tasks re-queued elsewhere) while it was fetching a blob for a task
    /// says hello again and, welcomed back, forgets that task: the next task it gets is fetched and served
    /// instead of waiting forever behind a blob chunk that will never come.
    @Test func aReWelcomedWorkerForgetsTheTasksItHeld() async throws {
        let fixture = try ClusterFixture()
        let hub = InMemoryHub()
        let worker = try fixture.worker(hub.connect(), name: "w")
        let run = Task { await worker.run() }
        defer { run.cancel() }
        let coordinator = hub.server
        let watchdog = Task {
            // Generous: the in-memory worker shares the cooperative pool with the heaviest tests.
            try? await Task.sleep(for: .seconds(300))
            coordinator.close()  // a hang ends the stream, i.e. a failed #require
        }
        defer { watchdog.cancel() }
        var incoming = coordinator.incoming.makeAsyncIterator()
        func next() async throws -> (peer: Peer, message: WorkerToCoordinator, requestID: UInt64) {
            while true {
                let received = try #require(await incoming.next())
                let envelope = try WireCodec.decode(received.frames, as: WorkerToCoordinator.self)
                if case .heartbeat = envelope.message { continue }
                return (received.peer, envelope.message, envelope.requestID)
            }
        }
        let welcome = Envelope(
            CoordinatorToWorker.welcome(
                Welcome(
                    coordinatorKernelIdentity: fixture.kernel, heartbeatIntervalMilliseconds: 60_000, liveness: 100)))
        func task(_ requestID: UInt64) -> Envelope<CoordinatorToWorker> {
            let step = GradientStep(
                parts: [BatchPart(inputs: .samples([0]), labels: [0], losses: [.crossEntropy(weight: 1)])],
                normalizer: 1, target: .inputs, isTraining: true, seed: 1)
            let context = JobContext(
                datasetSHA256: fixture.datasetSHA256, originalSHA256: fixture.originalSHA256,
                architecture: "fmnist-mlp", weightsVersion: "0123456789abcdef", weightsIncluded: false)
            return Envelope(
                .shardTask(
                    ShardTask(
                        id: TaskID(job: "job-1", phase: 0, step: 0, shard: Int(requestID), attempt: 0),
                        context: context, work: .gradient(step))), requestID: requestID)
        }

        let hello = try await next()
        guard case .hello = hello.message else { Issue.record("expected hello, got \(hello.message)"); return }
        coordinator.send(welcome, to: hello.peer)
        #expect(try await next().message == .ready(credit: 1))
        coordinator.send(task(7), to: hello.peer)
        let request = try await next()
        guard case .blobRequest = request.message else { Issue.record("expected a blob request"); return }
        #expect(request.requestID == 7)

        // Dropped: the blob request is refused as from an unknown worker; it says hello and is welcomed back.
        coordinator.send(
            Envelope(
                CoordinatorToWorker.error(ProtocolError(.notRegistered, "unknown worker: send hello first")),
                requestID: 7),
            to: hello.peer)
        guard case .hello = try await next().message else { Issue.record("expected hello again"); return }
        coordinator.send(welcome, to: hello.peer)
        #expect(try await next().message == .ready(credit: 1))
        coordinator.send(task(8), to: hello.peer)
        let second = try await next()
        guard case .blobRequest = second.message else { Issue.record("expected a blob request"); return }
        #expect(second.requestID == 8)
    }
}
