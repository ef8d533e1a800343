import Coordinator
import Foundation
import Jobs
import LetheTesting
import Tensor
import Testing
import Transport
import Wire

struct HostilePeerTests {
    /// Garbage, truncated, wrong-version and out-of-protocol messages, results for unknown tasks and wrongly
    /// shaped results: each is refused with an error reply and counted, and the pool still finishes the job
    /// with the right bits.
    @Test func hostileMessagesAreRefusedAndTheJobStillFinishes() async throws {
        let fixture = try ClusterFixture()
        let hub = InMemoryHub()
        let pool = WorkerPool(transport: hub.server, blobs: fixture.blobs, settings: fixture.poolSettings())
        pool.start()
        defer { pool.stop() }
        let attacker = hub.connect()
        let replies = Collected<Envelope<CoordinatorToWorker>>()
        let listener = Task {
            for await received in attacker.incoming {
                if let envelope = try? WireCodec.decode(received.frames, as: CoordinatorToWorker.self) {
                    replies.append(envelope)
                }
            }
        }
        defer { listener.cancel() }
        let hello = WireCodec.encode(
            Envelope(
                WorkerToCoordinator.hello(
                    Hello(name: "mallory", kernelIdentity: fixture.kernel, threads: 1, softwareVersion: "x"))))
        var wrongVersion = WireCodec.encode(Envelope(WorkerToCoordinator.heartbeat)).map(\.array)
        wrongVersion[0] = Array("lethe/9".utf8)
        attacker.send([FramePayload([1, 2, 3])], to: nil)  // one garbage frame
        attacker.send(wrongVersion.map { FramePayload($0) }, to: nil)
        attacker.send(WireCodec.encode(Envelope(WorkerToCoordinator.ready(credit: 1))), to: nil)  // before hello
        attacker.send(hello, to: nil)
        // Not on the worker socket.
        attacker.send(WireCodec.encode(Envelope(ControlRequest.jobQuery(id: "job-1"))), to: nil)
        let stray = ShardReport(
            id: TaskID(job: "job-1", phase: 0, step: 0, shard: 0, attempt: 0), weightedLoss: 0, correct: [0],
            seconds: 0)
        attacker.send(
            WireCodec.encode(
                Envelope(
                    WorkerToCoordinator.shardResult(stray), requestID: 424_242,
                    tensors: [NamedTensor("fc1.weight", Tensor(zeros: [1]))])),
            to: nil)
        try await eventually { replies.count >= 6 }
        let codes = replies.value.compactMap { envelope -> ProtocolError.Code? in
            if case .error(let error) = envelope.message { error.code } else { nil }
        }
        #expect(codes.contains(.badMessage) && codes.contains(.wrongVersion) && codes.contains(.unknownTask))
        #expect(pool.refusalCounts.values.reduce(0, +) >= 5)

        // An honest worker still gets the job done, and the right bits come out.
        let honest = try fixture.worker(hub.connect(), name: "honest")
        let run = Task { await honest.run() }
        defer { run.cancel() }
        let remote = try await DedicatedThread.run(name: "job") {
            try fixture.run(fixture.remoteExecutor(pool, shards: 2))
        }
        #expect(remote == (try fixture.localHash(shards: 2)))
    }

    /// A worker that answers with wrongly shaped gradients is refused and its shards are recomputed elsewhere.
    @Test func wronglyShapedResultsAreRecomputedElsewhere() async throws {
        try await expectLiesRecomputed { task, requestID in
            let report = ShardReport(id: task.id, weightedLoss: 0, correct: [0, 0], seconds: 0)
            return [
                Envelope(
                    WorkerToCoordinator.shardResult(report), requestID: requestID,
                    tensors: [NamedTensor("fc1.weight", Tensor(zeros: [2, 2]))])
            ]
        }
    }

    /// Gradient parts that repeat a gradient, or come for a task the worker does not hold, are refused; the
    /// attempt fails like a bad result and the shard is recomputed elsewhere.
    @Test func badGradientPartsAreRefusedAndRecomputedElsewhere() async throws {
        let fixture = try ClusterFixture()
        let bias = NamedTensor("fc3.bias", Tensor(zeros: [10]))
        let refusals = try await expectLiesRecomputed(fixture) { task, requestID in
            #expect(task.gradientPartBytes > 0)
            return [
                Envelope(WorkerToCoordinator.shardResultPart(task.id), requestID: requestID + 1_000, tensors: [bias]),
                Envelope(WorkerToCoordinator.shardResultPart(task.id), requestID: requestID, tensors: [bias]),
                Envelope(WorkerToCoordinator.shardResultPart(task.id), requestID: requestID, tensors: [bias]),
            ]
        }
        #expect(refusals["unknown task", default: 0] > 0)
    }

    /// Runs a job with an honest worker and a liar that answers its first two tasks with `lies` (then holds its
    /// next task in silence, so it is dropped and the task recomputed: a starved test process, whose honest worker
    /// looks lost for a while, cannot make the liar exhaust a shard's attempts). The job must give the local bits
    /// and the liar's results must be refused as bad; returns the pool's refusal counts.
    @discardableResult
    func expectLiesRecomputed(
        _ fixture: ClusterFixture? = nil,
        lies: @escaping @Sendable (ShardTask, UInt64) -> [Envelope<WorkerToCoordinator>]
    ) async throws -> [String: Int] {
        let fixture = try fixture ?? ClusterFixture()
        let hub = InMemoryHub()
        let pool = WorkerPool(transport: hub.server, blobs: fixture.blobs, settings: fixture.poolSettings())
        pool.start()
        defer { pool.stop() }
        let liar = hub.connect()
        let lying = Task {
            liar.send(
                WireCodec.encode(
                    Envelope(
                        WorkerToCoordinator.hello(
                            Hello(name: "a-liar", kernelIdentity: fixture.kernel, threads: 1, softwareVersion: "x")))
                ),
                to: nil)
            liar.send(WireCodec.encode(Envelope(WorkerToCoordinator.ready(credit: 1))), to: nil)
            var told = 0
            for await received in liar.incoming {
                guard let envelope = try? WireCodec.decode(received.frames, as: CoordinatorToWorker.self),
                    case .shardTask(let task) = envelope.message
                else { continue }
                guard told < 2 else { break }
                told += 1
                for lie in lies(task, envelope.requestID) { liar.send(WireCodec.encode(lie), to: nil) }
                liar.send(WireCodec.encode(Envelope(WorkerToCoordinator.ready(credit: 1))), to: nil)
            }
        }
        defer { lying.cancel() }
        let honest = try fixture.worker(hub.connect(), name: "honest")
        let run = Task { await honest.run() }
        defer { run.cancel() }
        // Both registered first: with the liar alone, a shard would go back to it until it fails for good.
        try await eventually { pool.workerList.count == 2 }
        let remote = try await DedicatedThread.run(name: "job") {
            try fixture.run(fixture.remoteExecutor(pool, shards: 2))
        }
        #expect(remote == (try fixture.localHash(shards: 2)))
        #expect(pool.refusalCounts["bad result", default: 0] > 0)
        return pool.refusalCounts
    }
}

/// Waits until `condition` holds or `seconds` pass. Generous: the in-memory daemons share the cooperative pool
/// with the heaviest tests, and a loaded machine starved it for minutes.
func eventually(seconds: Double = 300, _ condition: () -> Bool) async throws {
    let deadline = Date().addingTimeInterval(seconds)
    while !condition() && Date() < deadline { try await Task.sleep(for: .milliseconds(10)) }
}
