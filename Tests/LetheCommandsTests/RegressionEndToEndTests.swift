import Foundation
import LetheTesting
import Tensor
import Testing

/// Regression through the CLI as real processes: a NumPy directory of float targets, a regression CNN trained on
/// it, a retrain as the reference, `blindspot` forgetting a target range with its figures in the report and the
/// same bits on two workers, `lethe metrics`' regression figures, and a class forget selection refused.
struct RegressionEndToEndTests {
    let helpers = EndToEndTests()

    /// 28×28 images of uniform noise whose target is the mean of their top half, 400 to train on and 100 to test.
    func writeDataset(in directory: TemporaryDirectory) throws -> String {
        var generator = SeededGenerator(seed: 31)
        for (split, count) in [("train", 400), ("test", 100)] {
            let images = (0..<count * 784).map { _ in generator.nextFloat(in: 0..<1) }
            let targets = (0..<count).map { n in images[(n * 784)..<(n * 784 + 392)].reduce(0, +) / 392 }
            try Data(npy(descr: "<f4", shape: [count, 28, 28], data: littleEndian(images)))
                .write(to: directory.url.appendingPathComponent("\(split)_images.npy"))
            try Data(npy(descr: "<f4", shape: [count], data: littleEndian(targets)))
                .write(to: directory.url.appendingPathComponent("\(split)_labels.npy"))
        }
        return directory.url.path
    }

    @Test func blindspotForgetsATargetRangeAndRepeatsItsBitsOnWorkers() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let data = try writeDataset(in: directory)
        let model = "fmnist-cnn:regression=1"
        let original = directory.path("original.safetensors")
        let train = try await LetheProcess.run([
            "train", "--model", model, "--data", data, "--epochs", "2", "--seed", "3", "--out", original, "--format",
            "json",
        ])
        try #require(train.status == 0, "\(train.standardError)")
        // An epoch of a regression model reports its L1 loss and no accuracy.
        let epochs = try #require(try helpers.json(train.standardOutput)["epochs"] as? [[String: Any]])
        #expect(epochs.count == 2 && epochs.allSatisfy { $0["mean_loss"] is Double && $0["train_accuracy"] == nil })
        let common = [
            "--model", model, "--weights", original, "--data", data, "--forget-targets", "0.5...1", "--seed", "2",
        ]
        let retrain = try await LetheProcess.run(
            ["unlearn", "--method", "retrain", "--param", "epochs=2", "--out", directory.path("retrain.safetensors")]
                + common)
        try #require(retrain.status == 0, "\(retrain.standardError)")

        func blindspot(_ name: String, extra: [String] = []) async throws -> [String: Any] {
            let result = try await LetheProcess.run(
                [
                    "unlearn", "--method", "blindspot", "--shards", "2", "--reference",
                    directory.path("retrain.safetensors"), "--keep-failed", "--out",
                    directory.path("\(name).safetensors"), "--report", directory.path("\(name).json"), "--html",
                    directory.path("\(name).html"),
                ] + common + extra)
            // Judged against the retrain: 0 when it reached the retrain's forget error, 1 (kept) when it missed.
            try #require(result.status == 0 || result.status == 1, "\(result.standardError)")
            return try helpers.json(
                String(
                    decoding: try Data(contentsOf: directory.url.appendingPathComponent("\(name).json")), as: UTF8.self)
            )
        }
        let report = try await blindspot("local")
        #expect(report["method"] as? String == "blindspot")
        let regression = try #require(report["regression"] as? [String: Any])
        for state in ["before", "after", "reference"] {
            let figures = try #require(regression[state] as? [String: Any], "\(state)")
            for set in ["retain", "forget", "test"] {
                let l1 = (figures[set] as? [String: Any])?["l1"] as? Double
                #expect(l1.map { $0.isFinite && $0 >= 0 } == true, "\(state) \(set)")
            }
        }
        // Relearn time to the original's forget-set error, for the unlearned model and the retrain.
        let anamnesis = try #require(report["anamnesis"] as? [String: Any])
        #expect(anamnesis["maximum_steps"] as? Int == 100 && anamnesis["index"] is Double)
        let html = try String(contentsOf: directory.url.appendingPathComponent("local.html"), encoding: .utf8)
        #expect(html.contains("Forget set L1") && html.contains("Relearn steps to the original"))
        let forgotten = try #require((report["forget"] as? [String: Any])?["forget_samples"] as? Int)
        #expect(forgotten > 0 && forgotten < 400)
        let touched = try #require(report["data_touched"] as? [String: Int])
        #expect(touched["forget"] == forgotten && touched["validation"] == 0)

        let onWorkers = try await blindspot("workers", extra: ["--workers", "2"])
        #expect((report["output_sha256"] as? String)?.count == 64)
        #expect(onWorkers["output_sha256"] as? String == report["output_sha256"] as? String)

        // The results table has the regression columns, relearn time among them.
        let summary = try await LetheProcess.run(["summarize", directory.path("local.json")])
        #expect(summary.status == 0, "\(summary.standardError)")
        let row = summary.standardOutput.split(separator: "\n").first { $0.hasPrefix("| blindspot | 1 |") } ?? ""
        let cells = row.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(summary.standardOutput.contains("| MIA % | AIN | verdict |"), "\(summary.standardOutput)")
        #expect(cells.count == 11 && Double(cells[7]) != nil, "\(row)")

        let metrics = try await LetheProcess.run(
            [
                "metrics", "--model", model, "--weights", directory.path("local.safetensors"), "--data", data,
                "--forget-targets", "0.5...1", "--format", "json",
            ])
        try #require(metrics.status == 0, "\(metrics.standardError)")
        let figures = try helpers.json(metrics.standardOutput)
        #expect(((figures["regression"] as? [String: Any])?["forget"] as? [String: Any])?["l1"] is Double)

        let classes = try await LetheProcess.run(
            [
                "unlearn", "--method", "finetune", "--model", model, "--weights", original, "--data", data,
                "--forget-classes", "0", "--out", directory.path("x.safetensors"),
            ])
        #expect(classes.status == 2, "\(classes.standardError)")
        #expect(classes.standardError.contains("regression"), "\(classes.standardError)")
        #expect(!FileManager.default.fileExists(atPath: directory.path("x.safetensors")))
    }

    /// A CSV table (4 features, a target) with a JSON MLP whose head is regression: trained, then forgetting
    /// its highest targets with `finetune`, judged against a retrain.
    @Test func aCSVTableTrainsAndUnlearnsWithAJSONRegressionModel() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var generator = SeededGenerator(seed: 5)
        for (split, count) in [("train", 300), ("test", 60)] {
            var lines = ["age,bmi,bp,s1,progression"]
            for _ in 0..<count {
                let x = (0..<4).map { _ in generator.nextFloat(in: -1..<1) }
                let y = 0.5 * x[0] - x[1] + 0.25 * x[2] * x[3] + generator.nextFloat(in: -0.05..<0.05)
                lines.append((x + [y]).map { String($0) }.joined(separator: ","))
            }
            try lines.joined(separator: "\n").write(
                to: directory.url.appendingPathComponent("\(split).csv"), atomically: true, encoding: .utf8)
        }
        let model = directory.path("table-mlp.json")
        try #"""
        {"name": "table-mlp", "input": [1, 1, 4], "head": "regression", "layers": [{"type": "flatten"},
          {"type": "linear", "name": "fc1", "in": 4, "out": 32}, {"type": "relu"},
          {"type": "linear", "name": "fc2", "in": 32, "out": 1}]}
        """#.write(toFile: model, atomically: true, encoding: .utf8)
        let data = directory.url.path
        let original = directory.path("original.safetensors")
        let train = try await LetheProcess.run([
            "train", "--model", model, "--data", data, "--epochs", "20", "--batch-size", "16", "--lr", "0.02",
            "--seed", "1", "--out", original,
        ])
        try #require(train.status == 0, "\(train.standardError)")
        #expect(train.standardOutput.contains("L1"), "\(train.standardOutput)")
        let common = ["--model", model, "--weights", original, "--data", data, "--forget-targets", "0.8...10"]
        let retrain = try await LetheProcess.run(
            ["unlearn", "--method", "retrain", "--out", directory.path("retrain.safetensors")] + common)
        try #require(retrain.status == 0, "\(retrain.standardError)")
        let finetune = try await LetheProcess.run(
            [
                "unlearn", "--method", "finetune", "--reference", directory.path("retrain.safetensors"),
                "--keep-failed", "--out", directory.path("finetune.safetensors"), "--format", "json",
            ] + common)
        try #require(finetune.status == 0 || finetune.status == 1, "\(finetune.standardError)")
        let report = try helpers.json(finetune.standardOutput)
        let forgotten = try #require((report["forget"] as? [String: Any])?["forget_samples"] as? Int)
        #expect(forgotten > 0 && forgotten < 270)
        let after = try #require((report["regression"] as? [String: Any])?["after"] as? [String: Any])
        #expect(((after["forget"] as? [String: Any])?["l1"] as? Double).map(\.isFinite) == true)
        // Regression verification measures every retained sample: a retain sample is refused, not ignored.
        let sampled = try await LetheProcess.run(
            ["unlearn", "--method", "finetune", "--verify-retain", "50", "--out", directory.path("s.safetensors")]
                + common)
        #expect(sampled.status == 2 && sampled.standardError.contains("regression run measures every"))
    }
}
