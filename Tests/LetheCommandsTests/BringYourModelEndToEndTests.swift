import Checkpoint
import Foundation
import LetheTesting
import Testing

/// A PyTorch user's model and Lethe's own checkpoints, through `lethe train`, `eval` and `unlearn` as real processes:
/// the preprocessing is explicit, recorded, honoured, and said wherever it was assumed.
@Suite(.enabled(if: FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist")))
struct BringYourModelEndToEndTests {
    let helpers = EndToEndTests()
    let spec = Fixtures.bringYourModel("small-bn-cnn.json")
    let torchWeights = Fixtures.bringYourModel("small-bn-cnn.safetensors")

    func metadata(_ path: String) throws -> [String: String] {
        try SafetensorsFile(contentsOf: URL(fileURLWithPath: path)).metadata
    }

    func evaluate(_ arguments: [String]) async throws -> (report: [String: Any], standardError: String) {
        let eval = try await LetheProcess.run(["eval", "--format", "json"] + arguments)
        try #require(eval.status == 0, "\(eval.standardError)")
        return (try helpers.json(eval.standardOutput), eval.standardError)
    }

    /// The claim: a model trained on ToTensor() inputs evaluates as in PyTorch with `--normalize none`;
    /// without it Lethe assumes FashionMNIST's statistics, says so, and measures what PyTorch measures on such inputs.
    @Test func aModelTrainedOnToTensorInputsEvaluatesAsInPyTorchWithNormalizeNone() async throws {
        let expected = try helpers.json(
            String(contentsOfFile: Fixtures.bringYourModel("expected.json"), encoding: .utf8))
        let pytorch = try #require(expected["test_accuracy"] as? Double)
        let pytorchNormalised = try #require(expected["test_accuracy_normalised"] as? Double)
        async let none = evaluate(["--model", spec, "--weights", torchWeights, "--normalize", "none"])
        async let assumed = evaluate(["--model", spec, "--weights", torchWeights])

        let (given, assumedRun) = try await (none, assumed)
        // Within 0.1 points (10 of 10,000 samples) of PyTorch: float sums in another order may flip a near tie.
        #expect(abs(try #require(given.report["accuracy"] as? Double) - pytorch) <= 0.001)
        #expect(given.report["preprocessing"] as? [String: String] == ["normalize": "none", "source": "option"])
        #expect(!given.standardError.contains("records no normalisation"))

        #expect(abs(try #require(assumedRun.report["accuracy"] as? Double) - pytorchNormalised) <= 0.001)
        let preprocessing = try #require(assumedRun.report["preprocessing"] as? [String: String])
        #expect(preprocessing["source"] == "assumed-default" && preprocessing["normalize"] == "0.286/0.353")
        #expect(preprocessing["note"]?.contains("records no normalisation: assuming fashion-mnist's default") == true)
        #expect(assumedRun.standardError.contains("records no normalisation"), "\(assumedRun.standardError)")
    }

    /// `lethe train --normalize` records what it trained with; eval and unlearn use it without being told, refuse a
    /// flag that disagrees, and the unlearned checkpoint keeps the record. The default records nothing, so its
    /// checkpoint has the same bits however the default is spelled.
    @Test func trainingRecordsThePreprocessingAndEveryCommandHonoursIt() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let data = try helpers.makeSubset(in: directory, train: 1000, test: 300)
        func train(_ name: String, _ extra: [String]) async throws -> String {
            let out = directory.path(name)
            let train = try await LetheProcess.run(
                [
                    "train", "--model", "fmnist-mlp", "--data", data, "--epochs", "1", "--batch-size", "64", "--seed",
                    "3", "--out", out, "--format", "json",
                ] + extra)
            try #require(train.status == 0, "\(train.standardError)")
            return try #require(try helpers.json(train.standardOutput)["sha256"] as? String)
        }
        let byDefault = try await train("default.safetensors", [])
        #expect(try await train("spelled.safetensors", ["--normalize", "0.2860/0.3530"]) == byDefault)
        #expect(try metadata(directory.path("default.safetensors"))["lethe.normalization"] == nil)
        _ = try await train("none.safetensors", ["--normalize", "none"])
        let weights = directory.path("none.safetensors")
        #expect(try metadata(weights)["lethe.normalization"] == "none")

        let common = ["--model", "fmnist-mlp", "--weights", weights, "--data", data]
        let recorded = try await evaluate(common)
        #expect(recorded.report["preprocessing"] as? [String: String] == ["normalize": "none", "source": "checkpoint"])
        let agreeing = try await evaluate(common + ["--normalize", "none"])
        #expect(agreeing.report["accuracy"] as? Double == recorded.report["accuracy"] as? Double)
        let disagreeing = try await LetheProcess.run(["eval"] + common + ["--normalize", "0.2860/0.3530"])
        #expect(disagreeing.status == 2)
        #expect(
            disagreeing.standardError.contains(
                "--normalize 0.286/0.353 disagrees with \(weights), which records none; drop --normalize"),
            "\(disagreeing.standardError)")
        let malformed = try await LetheProcess.run(["eval"] + common + ["--normalize", "0.5"])
        #expect(malformed.status == 2 && malformed.standardError.contains("normalisation '0.5' does not read"))

        let out = directory.path("unlearned.safetensors")
        let unlearn = try await LetheProcess.run(
            ["unlearn", "--method", "finetune", "--forget-classes", "0", "--param", "epochs=1", "--keep-failed"]
                + common + ["--out", out, "--html", directory.path("report.html"), "--format", "json"])
        #expect(unlearn.status <= 1, "\(unlearn.standardError)")
        let report = try helpers.json(unlearn.standardOutput)
        #expect(report["preprocessing"] as? [String: String] == ["normalize": "none", "source": "checkpoint"])
        #expect(try metadata(out)["lethe.normalization"] == "none")
        let html = try String(contentsOfFile: directory.path("report.html"), encoding: .utf8)
        #expect(html.contains("Inputs: normalisation none (pixels in [0, 1]), recorded in the checkpoint."))
    }

    /// A checkpoint that records nothing (PyTorch's) is unlearned with the dataset's default *assumed*: the console,
    /// the JSON and the HTML report say so. Given `--normalize`, the unlearned checkpoint records it; a state dict
    /// without BatchNorm's counter loads, and workers (which get the normalised images and the file as blobs) give
    /// the same bits as the local run.
    @Test func anAssumedDefaultIsSaidInTheReportAndAGivenOneIsRecordedAndDistributed() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let data = try helpers.makeSubset(in: directory, train: 600, test: 200)
        func unlearn(_ name: String, weights: String, _ extra: [String]) async throws -> (
            report: [String: Any], standardError: String
        ) {
            let run = try await LetheProcess.run(
                [
                    "unlearn", "--method", "finetune", "--model", spec, "--weights", weights, "--data", data,
                    "--forget-classes", "0", "--param", "epochs=1", "--keep-failed", "--references", "none",
                    "--shards", "2", "--out", directory.path("\(name).safetensors"), "--html",
                    directory.path("\(name).html"), "--format", "json",
                ] + extra)
            try #require(run.status <= 1, "\(run.standardError)")
            return (try helpers.json(run.standardOutput), run.standardError)
        }
        let assumed = try await unlearn("assumed", weights: torchWeights, [])
        let preprocessing = try #require(assumed.report["preprocessing"] as? [String: String])
        #expect(preprocessing["source"] == "assumed-default")
        let note = try #require(preprocessing["note"])
        #expect(note.contains("small-bn-cnn.safetensors records no normalisation: assuming"))
        #expect(assumed.standardError.contains(note))
        let html = try String(contentsOfFile: directory.path("assumed.html"), encoding: .utf8)
        #expect(html.contains("class=\"bad\">Inputs: normalisation 0.286/0.353, \(note)"))
        #expect(try metadata(directory.path("assumed.safetensors"))["lethe.normalization"] == nil)

        var file = try SafetensorsFile(contentsOf: URL(fileURLWithPath: torchWeights))
        file.entries.removeAll { $0.name.hasSuffix("num_batches_tracked") }
        let stripped = directory.path("stripped.safetensors")
        try file.write(to: URL(fileURLWithPath: stripped))
        let given = try await unlearn("given", weights: stripped, ["--normalize", "none"])
        #expect(given.report["preprocessing"] as? [String: String] == ["normalize": "none", "source": "option"])
        #expect(!given.standardError.contains("records no normalisation"))
        #expect(given.standardError.contains("has no bn1.num_batches_tracked"), "\(given.standardError)")
        #expect(try metadata(directory.path("given.safetensors"))["lethe.normalization"] == "none")
        let workers = try await unlearn("workers", weights: stripped, ["--normalize", "none", "--workers", "2"])
        let sha256 = try #require(given.report["output_sha256"] as? String)
        #expect(workers.report["output_sha256"] as? String == sha256)
    }
}
