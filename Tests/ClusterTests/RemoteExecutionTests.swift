import Cluster
import Foundation
import LetheTesting
import NN
import Testing
import Unlearning
import Wire

struct RemoteExecutionTests {
    /// DESIGN §4: the same job, seed and shard count give the same bits locally and on any number of workers.
    @Test(arguments: [1, 3])
    func workersRepeatTheLocalBits(workers: Int) async throws {
        let fixture = try ClusterFixture()
        let local = try fixture.localHash(shards: 3)
        let hub = InMemoryHub()
        let pool = WorkerPool(transport: hub.server, blobs: fixture.blobs, settings: fixture.poolSettings())
        pool.start()
        defer { pool.stop() }
        let nodes = try (0..<workers).map { try fixture.worker(hub.connect(), name: "w\($0)") }
        let runs = nodes.map { node in Task { await node.run() } }
        defer { runs.forEach { $0.cancel() } }
        let remote = try await DedicatedThread.run(name: "job") {
            try fixture.run(fixture.remoteExecutor(pool, shards: 3))
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

struct BatchNormRefusalTests {
    /// BatchNorm running statistics would stay on the workers: such steps are refused with a clear error
    /// instead of returning a model that silently differs from a local run.
    @Test func trainingStepsOfBatchNormModelsAreRefused() throws {
        let fixture = try ClusterFixture()
        let pool = WorkerPool(transport: InMemoryHub().server, blobs: fixture.blobs, settings: fixture.poolSettings())
        let executor = fixture.remoteExecutor(pool, shards: 1)
        let model = try ModelSpec.build("resnet18:width=4,classes=10,channels=1,size=8", seed: 1)
        let step = GradientStep(
            parts: [BatchPart(inputs: .samples([0]), labels: [0], losses: [.crossEntropy(weight: 1)])], seed: 1)
        let error = #expect(throws: ProtocolError.self) {
            try executor.gradient(step, state: PlanState(student: model))
        }
        #expect(error?.message.contains("BatchNorm") == true)
    }
}
