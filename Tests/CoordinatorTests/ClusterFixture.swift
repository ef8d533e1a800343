import Checkpoint
import Coordinator
import Data
import Foundation
import Jobs
import LetheTesting
import NN
import Tensor
import Testing
import Transport
import Unlearning
import Wire
import Worker

/// A toy unlearning job (SCRUB on class 0 of a small MLP) with its blobs in a temporary store.
final class ClusterFixture: @unchecked Sendable {
    let directory: URL
    let train = labelledDataset(perClass: [Int](repeating: 24, count: 10), seed: 5)
    let original: Model
    let blobs: BlobStore
    let datasetSHA256: String
    let originalSHA256: String
    let kernel = BLAS.kernelIdentity

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("lethe-cluster-\(UUID())")
        var recipe = TrainingRecipe()
        recipe.epochs = 2
        recipe.batchSize = 32
        recipe.learningRate = 0.05
        original = ModelZoo.fmnistMLP(seed: 1)
        _ = try Trainer(model: original, recipe: recipe).fit(train, indices: Array(0..<train.count))
        blobs = try BlobStore(directory: directory.appendingPathComponent("coordinator"))
        datasetSHA256 = try blobs.put(DatasetBlob.encode(train))
        let checkpoint = directory.appendingPathComponent("original.safetensors")
        try ModelCheckpoint.save(original, to: checkpoint)
        originalSHA256 = try blobs.put(contentsOf: checkpoint)
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    /// Small settings for the methods the cluster tests run: SCRUB's gradient steps, SSD's Fisher passes and α
    /// search (its forward passes; one candidate that dampens nothing, a retain budget the toy can meet), and GKT's
    /// input-gradient and student steps on generated images.
    static let settings = [
        "scrub": ["epochs": "2", "max-epochs": "1", "forget-batch": "8", "retain-batch": "32", "lr": "0.05"],
        "ssd": ["alpha-candidates": "1e9:50:10", "max-retain-drop": "1", "check-samples": "50"],
        "gkt": [
            "pseudo-batches": "2", "batch-size": "16", "student-steps": "2", "checkpoint-every": "1",
            "impressions": "4", "impression-steps": "3",
        ],
    ]

    func plan(_ name: String = "scrub") throws -> Plan {
        let method = try #require(UnlearningMethods.named(name))
        let problem = UnlearningProblem(
            train: train, forgetSet: try ForgetSelection.classes([0]).resolve(in: train), validation: [],
            parameters: try MethodParameters(method.parameters, overrides: Self.settings[name] ?? [:]),
            seed: 3, recipe: TrainingRecipe(), architecture: { ModelZoo.fmnistMLP(seed: $0) })
        return try method.plan(for: problem)
    }

    /// Runs method `name`'s plan with `executor` and returns the bit hash of the result.
    func run(_ executor: StepExecutor, method name: String = "scrub") throws -> String {
        let plan = try plan(name)
        let state = PlanState(student: original.copy(), optimizers: plan.makeOptimizers())
        // As a run's verification hands them over: SCRUB's teacher logits need no prediction tasks, so its first
        // tasks are gradient shards.
        state.originalPredictions = ModelPredictions(
            train: Evaluator.predict(original, on: train, indices: Array(0..<train.count)),
            test: Evaluator.predict(original, on: train, indices: []))
        try PlanRunner(executor: executor).run(plan, state: state)
        return BitHash.of(state.student.stateDict().map(\.tensor))
    }

    func localHash(shards: Int, method: String = "scrub") throws -> String {
        try run(
            LocalExecutor(dataset: train, shards: shards, original: original) { ModelZoo.fmnistMLP(seed: $0) },
            method: method)
    }

    func remoteExecutor(_ pool: WorkerPool, shards: Int) -> RemoteExecutor {
        RemoteExecutor(
            pool: pool, job: "job-1", shards: shards, datasetSHA256: datasetSHA256, labels: train.labels,
            originalSHA256: originalSHA256, architecture: "fmnist-mlp")
    }

    /// A started coordinator over in-memory transports that runs no jobs (requests, uploads and refusals only),
    /// with its state directory and the hub its users connect to; stop it when done.
    func joblessCoordinator() throws -> (Coordinator, StateDirectory, InMemoryHub) {
        let state = try StateDirectory(directory.appendingPathComponent("state").path)
        let controlHub = InMemoryHub()
        let coordinator = Coordinator(
            state: state, workers: InMemoryHub().server, control: controlHub.server, settings: poolSettings()
        ) { job, _ in throw ProtocolError(.badRequest, "\(job.id): no jobs in this test") }
        try coordinator.start()
        return (coordinator, state, controlHub)
    }

    func poolSettings() -> WorkerPool.Settings {
        var settings = WorkerPool.Settings(kernelIdentity: kernel)
        // A lost worker is noticed within 2 s; a starved test process only causes harmless re-queueing.
        settings.heartbeatMilliseconds = 100
        settings.liveness = 20
        return settings
    }

    func worker(_ transport: Transport, name: String) throws -> WorkerNode {
        WorkerNode(
            transport: transport, blobs: try BlobStore(directory: directory.appendingPathComponent(name)),
            hello: Hello(name: name, kernelIdentity: kernel, threads: 1, softwareVersion: "test"))
    }
}
