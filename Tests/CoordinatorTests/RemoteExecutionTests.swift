import Checkpoint
import Coordinator
import Foundation
import Jobs
import LetheTesting
import NN
import Testing
import Transport
import Unlearning
import Wire

struct RemoteExecutionTests {
    /// DESIGN §4: the same job, seed and shard count give the same bits locally and on any number of workers
    /// (SSD: its Fisher passes and the forward passes of its α search; GKT: steps on generated images), whether
    /// the workers send gradients with their results (0), all in one part ahead of them (fmnist-mlp's 1.1 MB
    /// reach the default 256 KiB with fc1) or layer by layer (4 KiB).
    @Test(arguments: [("scrub", 1, 0), ("scrub", 3, 4096), ("scrub", 2, 256 << 10), ("ssd", 2, 4096), ("gkt", 2, 4096)])
    func workersRepeatTheLocalBits(method: String, workers: Int, partBytes: Int) async throws {
        let fixture = try ClusterFixture()
        let local = try fixture.localHash(shards: 3, method: method)
        let hub = InMemoryHub()
        var settings = fixture.poolSettings()
        settings.gradientPartBytes = partBytes
        let pool = WorkerPool(transport: hub.server, blobs: fixture.blobs, settings: settings)
        pool.start()
        defer { pool.stop() }
        let nodes = try (0..<workers).map { try fixture.worker(hub.connect(), name: "w\($0)") }
        let runs = nodes.map { node in Task { await node.run() } }
        defer { runs.forEach { $0.cancel() } }
        let remote = try await DedicatedThread.run(name: "job") {
            try fixture.run(fixture.remoteExecutor(pool, shards: 3), method: method)
        }
        #expect(remote == local)
        #expect(nodes.allSatisfy { $0.tasksDone > 0 })
    }

    /// A worker that vanishes mid-job loses nothing: its shards are recomputed elsewhere, with the same bits.
    @Test func aLostWorkerChangesNothing() async throws {
        let fixture = try ClusterFixture()
        let local = try fixture.localHash(shards: 2)
        let hub = InMemoryHub()
        let pool = WorkerPool(transport: hub.server, blobs: fixture.blobs, settings: fixture.poolSettings())
        pool.start()
        defer { pool.stop() }
        let doomedTransport = hub.connect()
        let doomed = try fixture.worker(doomedTransport, name: "doomed")
        let survivor = try fixture.worker(hub.connect(), name: "survivor")
        let runs = [Task { await doomed.run() }, Task { await survivor.run() }]
        defer { runs.forEach { $0.cancel() } }
        let killer = Task {
            while doomed.tasksDone < 3 { try await Task.sleep(for: .milliseconds(5)) }
            doomedTransport.close()
        }
        let remote = try await DedicatedThread.run(name: "job") {
            try fixture.run(fixture.remoteExecutor(pool, shards: 2))
        }
        try await killer.value
        #expect(remote == local)
        // The silent worker is dropped once its liveness runs out (the job may finish before that).
        let deadline = Date().addingTimeInterval(60)
        while pool.workerList.count > 1 && Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(pool.workerList.map(\.name) == ["survivor"])
    }
}

struct BatchNormShardingTests {
    /// Training-mode steps of a model with BatchNorm: each shard returns its batch statistics and the running
    /// averages are updated in shard order, so two workers give the local run's gradients and running statistics
    /// bit for bit.
    @Test func batchNormStepsRepeatTheLocalBits() async throws {
        let fixture = try ClusterFixture()
        let spec = "resnet18:width=4,classes=10,channels=1,size=28"
        let model = try ModelSpec.build(spec, seed: 1)
        let checkpoint = fixture.directory.appendingPathComponent("resnet.safetensors")
        try ModelCheckpoint.save(model, to: checkpoint)
        let modelSHA256 = try fixture.blobs.put(contentsOf: checkpoint)
        let rows = Array(0..<30)
        let step = GradientStep(
            parts: [
                BatchPart(
                    inputs: .samples(rows), labels: rows.map { fixture.train.labels[$0] },
                    losses: [.crossEntropy(weight: 1)])
            ], seed: 4)
        let local = try await DedicatedThread.run(name: "bn-local") {
            let model = try ModelSpec.build(spec, seed: 1)
            return try Self.outcome(
                of: LocalExecutor(dataset: fixture.train, shards: 3, original: model) {
                    try! ModelSpec.build(spec, seed: $0)
                }, step: step, model: model)
        }
        #expect(local.state != BitHash.of(model.stateDict().map(\.tensor)), "the running statistics moved")

        let hub = InMemoryHub()
        let pool = WorkerPool(transport: hub.server, blobs: fixture.blobs, settings: fixture.poolSettings())
        pool.start()
        defer { pool.stop() }
        let nodes = try (0..<2).map { try fixture.worker(hub.connect(), name: "w\($0)") }
        let runs = nodes.map { node in Task { await node.run() } }
        defer { runs.forEach { $0.cancel() } }
        let remote = try await DedicatedThread.run(name: "bn") {
            let executor = RemoteExecutor(
                pool: pool, job: "job-bn", shards: 3, datasetSHA256: fixture.datasetSHA256,
                labels: fixture.train.labels, originalSHA256: modelSHA256, architecture: spec)
            return try Self.outcome(of: executor, step: step, model: try ModelSpec.build(spec, seed: 1))
        }
        #expect(remote.state == local.state)
        #expect(remote.gradients == local.gradients)
    }

    /// The student's state and gradients after one step from `model`.
    static func outcome(of executor: StepExecutor, step: GradientStep, model: Model) throws -> (
        state: String, gradients: String
    ) {
        let state = PlanState(student: model.copy())
        _ = try executor.gradient(step, state: state)
        return (
            BitHash.of(state.student.stateDict().map(\.tensor)),
            BitHash.of(state.student.namedParameters.map(\.parameter.grad))
        )
    }
}
