import Data
import Foundation
import LetheTesting
import Testing

/// `lethe train` and `lethe eval` as real processes on a small subset of the real FashionMNIST.
@Suite(.enabled(if: FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist")))
struct EndToEndTests {
    /// Writes the first `train` training and `test` test samples of FashionMNIST as raw IDX files.
    func makeSubset(in directory: TemporaryDirectory, train: Int, test: Int) throws -> String {
        let source = "/usr/share/datasets/fashion-mnist"
        for (prefix, count) in [("train", train), ("t10k", test)] {
            let images = try ByteFile.read("\(source)/\(prefix)-images-idx3-ubyte.gz")
            let labels = try ByteFile.read("\(source)/\(prefix)-labels-idx1-ubyte.gz")
            var imageHeader = Array(images[0..<16])
            var labelHeader = Array(labels[0..<8])
            imageHeader.replaceSubrange(4..<8, with: bigEndian(count))
            labelHeader.replaceSubrange(4..<8, with: bigEndian(count))
            try Data(imageHeader + images[16..<(16 + count * 784)])
                .write(to: directory.url.appendingPathComponent("\(prefix)-images-idx3-ubyte"))
            try Data(labelHeader + labels[8..<(8 + count)])
                .write(to: directory.url.appendingPathComponent("\(prefix)-labels-idx1-ubyte"))
        }
        return directory.url.path
    }

    /// A 600/300 subset and an `fmnist-mlp` original trained on it (`--seed 3`), for tests that need a small model.
    func smallOriginal(in directory: TemporaryDirectory, epochs: Int = 1, extra: [String] = []) async throws -> (
        data: String, original: String
    ) {
        let data = try makeSubset(in: directory, train: 600, test: 300)
        let original = directory.path("original.safetensors")
        let train = try await LetheProcess.run(
            [
                "train", "--model", "fmnist-mlp", "--data", data, "--epochs", "\(epochs)", "--seed", "3", "--out",
                original,
            ] + extra)
        try #require(train.status == 0, "\(train.standardError)")
        return (data, original)
    }

    func bigEndian(_ value: Int) -> [UInt8] { (0..<4).map { UInt8((value >> (8 * (3 - $0))) & 0xFF) } }

    func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    /// `lethe submit ARGUMENTS` (with `--format json` among them); returns the job id.
    func submit(_ arguments: [String], environment: [String: String] = [:]) async throws -> String {
        let submit = try await LetheProcess.run(["submit"] + arguments, environment: environment)
        try #require(submit.status == 0, "\(submit.standardError)")
        return try #require(try json(submit.standardOutput)["id"] as? String)
    }

    /// Polls `lethe status` until job `id` has done `steps` steps (rounds, for federated jobs); fails if it ends
    /// first, before `event` (what the caller is about to do to it) could happen.
    func waitForSteps(_ steps: Int, of id: String, cli: [String], before event: String) async throws {
        while true {
            try await Task.sleep(for: .milliseconds(100))
            let result = try await LetheProcess.run(["status", id] + cli)
            let status = try json(result.standardOutput)
            let state = status["state"] as? String ?? "unknown"
            try #require(
                state == "running" || state == "queued",
                "\(id) was \(state) before \(event): \(result.standardOutput) \(result.standardError)")
            if status["steps_done"] as? Int ?? 0 >= steps { return }
        }
    }

    @Test func trainThenEvaluateReachesSensibleAccuracy() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let data = try makeSubset(in: directory, train: 3000, test: 1000)
        let weights = directory.path("mlp.safetensors")
        let train = try await LetheProcess.run([
            "train", "--model", "fmnist-mlp", "--data", data, "--epochs", "3", "--batch-size", "64", "--lr", "0.05",
            "--seed", "3", "--out", weights, "--format", "json",
        ])
        #expect(train.status == 0, "\(train.standardError)")
        let trained = try json(train.standardOutput)
        #expect(trained["samples"] as? Int == 2700)  // 10% held out for validation
        #expect((trained["sha256"] as? String)?.count == 64)

        let eval = try await LetheProcess.run([
            "eval", "--model", "fmnist-mlp", "--weights", weights, "--data", data, "--format", "json",
        ])
        #expect(eval.status == 0, "\(eval.standardError)")
        let report = try json(eval.standardOutput)
        let accuracy = try #require(report["accuracy"] as? Double)
        #expect(accuracy > 0.7 && accuracy <= 1)
        #expect(report["samples"] as? Int == 1000)
        #expect((report["per_class_accuracy"] as? [Any])?.count == 10)
        #expect((report["loss"] as? Double).map { $0 > 0 && $0 < 1.5 } == true)
    }

    @Test func excludedClassIsNeverLearned() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let data = try makeSubset(in: directory, train: 2000, test: 500)
        let weights = directory.path("retrain.safetensors")
        let train = try await LetheProcess.run([
            "train", "--model", "fmnist-mlp", "--data", data, "--epochs", "2", "--batch-size", "64", "--lr", "0.05",
            "--exclude-classes", "0", "--out", weights, "--format", "json",
        ])
        #expect(train.status == 0, "\(train.standardError)")
        let trained = try json(train.standardOutput)
        let excluded = try #require(trained["excluded"] as? Int)
        #expect(excluded > 100 && (trained["samples"] as? Int) == 2000 - excluded)
        let eval = try await LetheProcess.run([
            "eval", "--model", "fmnist-mlp", "--weights", weights, "--data", data, "--format", "json",
        ])
        let perClass = try #require(try json(eval.standardOutput)["per_class_accuracy"] as? [Double])
        #expect(perClass[0] < 0.05)
        #expect(perClass[1...].reduce(0, +) / 9 > 0.6)
    }

    @Test func badInputsGiveClearErrorsAndExitCode2() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let data = try makeSubset(in: directory, train: 200, test: 100)
        let weights = directory.path("mlp.safetensors")
        let train = try await LetheProcess.run([
            "train", "--model", "fmnist-mlp", "--data", data, "--epochs", "1", "--out", weights,
        ])
        #expect(train.status == 0, "\(train.standardError)")

        // The checkpoint of another architecture: every offending tensor is named.
        let wrongModel = try await LetheProcess.run([
            "eval", "--model", "fmnist-cnn", "--weights", weights, "--data", data,
        ])
        #expect(wrongModel.status == 2)
        #expect(wrongModel.standardError.contains("missing: conv1.weight"))
        #expect(wrongModel.standardError.contains("unexpected: fc3.weight"))
        #expect(wrongModel.standardError.contains("fc1.weight: expected shape [128, 3136], found [256, 784]"))

        // A truncated checkpoint.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: weights))
        let truncated = directory.path("truncated.safetensors")
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: truncated))
        let broken = try await LetheProcess.run([
            "eval", "--model", "fmnist-mlp", "--weights", truncated, "--data", data,
        ])
        #expect(broken.status == 2)
        #expect(broken.standardError.contains("truncated.safetensors"))

        let unknownModel = try await LetheProcess.run([
            "eval", "--model", "vgg99", "--weights", weights, "--data", data,
        ])
        #expect(unknownModel.status == 2 && unknownModel.standardError.contains("unknown model 'vgg99'"))

        let noJobs = try await LetheProcess.run([
            "coordinator", "--state-dir", directory.path("state"), "--insecure", "--max-jobs", "0",
        ])
        #expect(noJobs.status != 0 && noJobs.standardError.contains("--max-jobs must be between 1 and 64"))
        let hugeParts = try await LetheProcess.run([
            "coordinator", "--state-dir", directory.path("state"), "--insecure", "--part-size", "2G",
        ])
        #expect(hugeParts.status != 0 && hugeParts.standardError.contains("--part-size must be at most 1G"))

        let indexFile = directory.path("forget.txt")
        try "1\n2\nthree\n".write(toFile: indexFile, atomically: true, encoding: .utf8)
        let badIndices = try await LetheProcess.run([
            "train", "--model", "fmnist-mlp", "--data", data, "--exclude-indices", indexFile, "--out", weights,
        ])
        #expect(badIndices.status == 2 && badIndices.standardError.contains("forget.txt:3"))

        let missingData = try await LetheProcess.run([
            "eval", "--model", "fmnist-mlp", "--weights", weights, "--data", directory.path("none"),
        ])
        #expect(missingData.status == 2)
    }
}

extension EndToEndTests {
    @Test func metricsReportsTheVerificationNumbers() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let data = try makeSubset(in: directory, train: 1000, test: 500)
        let weights = directory.path("mlp.safetensors")
        let train = try await LetheProcess.run([
            "train", "--model", "fmnist-mlp", "--data", data, "--epochs", "2", "--lr", "0.05", "--out", weights,
        ])
        #expect(train.status == 0, "\(train.standardError)")
        let run = try await LetheProcess.run([
            "metrics", "--model", "fmnist-mlp", "--weights", weights, "--data", data, "--forget-classes", "0",
            "--reference", weights, "--format", "json",
        ])
        #expect(run.status == 0, "\(run.standardError)")
        let metrics = try #require(try json(run.standardOutput)["metrics"] as? [String: Any])
        for key in [
            "forget_accuracy", "retain_accuracy", "test_accuracy", "test_forget_accuracy", "test_retain_accuracy",
            "mia",
            "mia_entropy", "zrf", "activation_distance", "js_divergence",
        ] {
            #expect((metrics[key] as? Double).map { (0...1).contains($0) } == true, "\(key)")
        }
        #expect((metrics["per_class_accuracy"] as? [Any])?.count == 10)

        let twoSelectors = try await LetheProcess.run([
            "metrics", "--model", "fmnist-mlp", "--weights", weights, "--data", data, "--forget-classes", "0",
            "--forget-fraction", "0.1",
        ])
        #expect(twoSelectors.status == 2 && twoSelectors.standardError.contains("exactly one of"))
        let noSuchClass = try await LetheProcess.run([
            "metrics", "--model", "fmnist-mlp", "--weights", weights, "--data", data, "--forget-classes", "12",
        ])
        #expect(noSuchClass.status == 2 && noSuchClass.standardError.contains("class 12 does not exist"))
    }
}
