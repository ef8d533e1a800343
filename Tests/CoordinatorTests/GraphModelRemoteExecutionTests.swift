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

/// An imported ONNX graph (the residual CNN of Tests/ONNXTests/Fixtures) as a job's model: workers fetch the graph
/// by hash like the data and checkpoint (`onnx:<sha256>`) and repeat the local bits on one and on three workers,
/// BatchNorm statistics included.
struct GraphModelRemoteExecutionTests {
    @Test(arguments: [1, 3])
    func workersRepeatTheLocalBitsOfAGraphModel(workers: Int) async throws {
        let fixture = try ClusterFixture()
        let graph = try Data(
            contentsOf: Fixtures.packageRoot.appendingPathComponent("Tests/ONNXTests/Fixtures/residual-cnn.onnx"))
        let graphSHA256 = try fixture.blobs.put(graph)
        let architecture = ModelFiles.architecture(.onnx, sha256: graphSHA256)
        ModelFiles.addSource { [blobs = fixture.blobs] in try? [UInt8](blobs.data($0)) }
        let original = try ModelSpec.build(architecture, seed: 0)
        let checkpoint = fixture.directory.appendingPathComponent("graph.safetensors")
        try ModelCheckpoint.save(original, to: checkpoint)
        let originalSHA256 = try fixture.blobs.put(contentsOf: checkpoint)
        let job = try GraphJob(fixture: fixture, architecture: architecture, original: original)
        let local = try job.run(
            LocalExecutor(dataset: fixture.train, shards: 3, original: original) {
                try! ModelSpec.build(architecture, seed: $0)
            })

        let hub = InMemoryHub()
        let pool = WorkerPool(transport: hub.server, blobs: fixture.blobs, settings: fixture.poolSettings())
        pool.start()
        defer { pool.stop() }
        let nodes = try (0..<workers).map { try fixture.worker(hub.connect(), name: "graph-w\($0)") }
        let runs = nodes.map { node in Task { await node.run() } }
        defer { runs.forEach { $0.cancel() } }
        let remote = try await DedicatedThread.run(name: "graph-job") {
            try job.run(
                RemoteExecutor(
                    pool: pool, job: "graph-job", shards: 3, datasetSHA256: fixture.datasetSHA256,
                    labels: fixture.train.labels, originalSHA256: originalSHA256, architecture: architecture))
        }
        #expect(remote == local)
        #expect(nodes.allSatisfy { $0.tasksDone > 0 })
        // Each worker fetched the graph into its own blob cache.
        for index in 0..<workers {
            let cache = try BlobStore(directory: fixture.directory.appendingPathComponent("graph-w\(index)"))
            #expect(cache.contains(graphSHA256))
        }
    }
}

/// SCRUB on class 0 of the cluster fixture's data, with a graph model.
private final class GraphJob: @unchecked Sendable {
    let method: any UnlearningMethod
    let problem: UnlearningProblem
    let original: Model

    init(fixture: ClusterFixture, architecture: String, original: Model) throws {
        method = try #require(UnlearningMethods.named("scrub"))
        problem = UnlearningProblem(
            train: fixture.train, forgetSet: try ForgetSelection.classes([0]).resolve(in: fixture.train),
            validation: [],
            parameters: try MethodParameters(method.parameters, overrides: ClusterFixture.settings["scrub"]!),
            seed: 3, recipe: TrainingRecipe(), architecture: { try! ModelSpec.build(architecture, seed: $0) })
        self.original = original
    }

    func run(_ executor: StepExecutor) throws -> String {
        let plan = try method.plan(for: problem)
        let state = PlanState(student: original.copy(), optimizers: plan.makeOptimizers())
        try PlanRunner(executor: executor).run(plan, state: state)
        return BitHash.of(state.student.stateDict().map(\.tensor))
    }
}
