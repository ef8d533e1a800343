import Checkpoint
import Foundation
import LetheTesting
import Testing

/// A graph exported from PyTorch (`--model residual-cnn.onnx`, Tests/ONNXTests/Fixtures) through `lethe train`,
/// `eval`, `unlearn` and `submit` as real processes: the checkpoint keeps PyTorch's names, and worker processes
/// that fetched the graph by hash repeat the local unlearning bits.
@Suite(.enabled(if: FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist")))
struct ONNXEndToEndTests {
    let helpers = EndToEndTests()
    let graph = Fixtures.packageRoot.appendingPathComponent("Tests/ONNXTests/Fixtures/residual-cnn.onnx").path

    @Test(.timeLimit(.minutes(5)))
    func aPyTorchGraphTrainsEvaluatesAndUnlearnsLocallyAndOnWorkers() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let data = try helpers.makeSubset(in: directory, train: 1000, test: 300)
        let weights = directory.path("trained.safetensors")
        let train = try await LetheProcess.run([
            "train", "--model", graph, "--data", data, "--normalize", "none", "--epochs", "1", "--batch-size", "32",
            "--lr", "0.05", "--seed", "1", "--out", weights,
        ])
        try #require(train.status == 0, "\(train.standardError)")
        let names = Set(try SafetensorsFile(contentsOf: URL(fileURLWithPath: weights)).entries.map(\.name))
        #expect(names.isSuperset(of: ["conv1.weight", "block_bn2.running_var", "depthwise.bias", "fc.weight"]))
        #expect(names.contains("bn1.num_batches_tracked"))

        let eval = try await LetheProcess.run([
            "eval", "--model", graph, "--weights", weights, "--data", data, "--format", "json",
        ])
        try #require(eval.status == 0, "\(eval.standardError)")
        #expect(try #require(try helpers.json(eval.standardOutput)["accuracy"] as? Double) > 0.4)

        let request = [
            "--method", "scrub", "--model", graph, "--weights", weights, "--data", data, "--forget-classes", "0",
            "--seed", "2", "--shards", "3", "--param", "lr=0.01", "--param", "epochs=1", "--format", "json",
            // Whether SCRUB meets its targets on this small run is not the point: the bits are, so keep them.
            "--keep-failed",
        ]
        let local = try await LetheProcess.run(["unlearn"] + request + ["--out", directory.path("local.safetensors")])
        try #require([0, 1].contains(local.status), "\(local.standardError)")
        let localSHA256 = try #require(try helpers.json(local.standardOutput)["output_sha256"] as? String)

        let cluster = try await KeyedCluster(in: directory, workers: ["alpha", "beta"])
        defer { cluster.terminate() }
        let cli = cluster.cli + ["--format", "json"]
        let id = try await helpers.submit(request + cluster.cli)
        _ = try await LetheProcess.run(["watch", id] + cli)
        let result = try await LetheProcess.run(["result", id, "--out", directory.path("remote.safetensors")] + cli)
        try #require([0, 1].contains(result.status), "\(result.standardError)")
        #expect(try helpers.json(result.standardOutput)["output_sha256"] as? String == localSHA256)
        #expect(
            FileManager.default.contentsEqual(
                atPath: directory.path("remote.safetensors"), andPath: directory.path("local.safetensors")))
    }
}
