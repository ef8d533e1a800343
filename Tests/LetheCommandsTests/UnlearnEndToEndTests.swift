import Foundation
import LetheTesting
import Testing

/// `lethe unlearn` as a real process on a small subset of the real FashionMNIST.
@Suite(.enabled(if: FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist")))
struct UnlearnEndToEndTests {
    let helpers = EndToEndTests()

    func trainOriginal(in directory: TemporaryDirectory, extra: [String] = []) async throws -> (
        data: String, weights: String
    ) {
        let data = try helpers.makeSubset(in: directory, train: 2000, test: 500)
        let weights = directory.path("original.safetensors")
        let train = try await LetheProcess.run(
            [
                "train", "--model", "fmnist-mlp", "--data", data, "--epochs", "3", "--batch-size", "64", "--lr", "0.05",
                "--seed", "3", "--out", weights,
            ] + extra)
        try #require(train.status == 0, "\(train.standardError)")
        return (data, weights)
    }

    @Test func scrubForgetsAClassWritesReportsAndRepeatsBitForBit() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (data, weights) = try await trainOriginal(in: directory)
        func unlearn(_ name: String, extra: [String] = []) async throws -> [String: Any] {
            let result = try await LetheProcess.run(
                [
                    "unlearn", "--method", "scrub", "--model", "fmnist-mlp", "--weights", weights, "--data", data,
                    "--forget-classes", "0", "--seed", "2", "--shards", "2", "--param", "lr=0.01", "--param",
                    "epochs=4",
                    "--out", directory.path("\(name).safetensors"), "--report", directory.path("\(name).json"),
                    "--html", directory.path("\(name).html"), "--format", "json",
                ] + extra)
            try #require(result.status == 0, "\(result.standardError)")
            return try helpers.json(
                String(
                    decoding: try Data(contentsOf: directory.url.appendingPathComponent("\(name).json")), as: UTF8.self)
            )
        }
        let report = try await unlearn("first")
        #expect(report["method"] as? String == "scrub")
        #expect((report["params"] as? [String: String])?["lr"] == "0.01")
        #expect((report["seconds"] as? Double).map { $0 > 0 } == true)
        let before = try #require(report["before"] as? [String: Any])
        let after = try #require(report["after"] as? [String: Any])
        for key in [
            "forget_accuracy", "retain_accuracy", "test_accuracy", "test_forget_accuracy", "test_retain_accuracy",
            "mia",
            "mia_entropy", "zrf", "validation_accuracy", "validation_forget_accuracy", "validation_retain_accuracy",
        ] {
            #expect(before[key] is Double && after[key] is Double, "\(key)")
        }
        #expect((after["per_class_accuracy"] as? [Any])?.count == 10)
        #expect((after["validation_per_class_accuracy"] as? [Any])?.count == 10)
        // Per-class fidelity: one row per class; the forgotten class 0 is marked, not flagged as damage.
        let perClass = try #require(report["per_class"] as? [[String: Any]])
        #expect(
            perClass.count == 10 && perClass[0]["forgotten"] as? Bool == true
                && perClass[0]["flagged"] as? Bool == false)
        #expect(
            try #require(after["test_forget_accuracy"] as? Double) < (before["test_forget_accuracy"] as? Double ?? 0))
        let touched = try #require(report["data_touched"] as? [String: Int])
        #expect(touched["forget"]! > 0 && touched["validation"] == 0)
        let html = try String(contentsOf: directory.url.appendingPathComponent("first.html"), encoding: .utf8)
        #expect(html.contains("<svg") && html.contains("min epoch 1") && html.contains("Membership inference"))

        // Again, on two workers through an embedded coordinator over the wire protocol: the same bits. Its
        // verification measures the retain accuracy on 300 of the retained samples (the workers predict only
        // what it measures): the same samples before and after, the figures of the whole run elsewhere.
        let again = try await unlearn("second", extra: ["--workers", "2", "--verify-retain", "300"])
        #expect(report["output_sha256"] as? String == again["output_sha256"] as? String)
        #expect(again["data_touched"] as? [String: Int] == touched)
        #expect((report["output_sha256"] as? String)?.count == 64)
        let sampledBefore = try #require(again["before"] as? [String: Any])
        let sampledAfter = try #require(again["after"] as? [String: Any])
        let retained = try #require(before["retain_samples"] as? Int)
        for verification in [sampledBefore, sampledAfter] {
            #expect(
                verification["retain_samples"] as? Int == 300 && verification["retain_population"] as? Int == retained)
            #expect((verification["retain_margin"] as? Double).map { $0 > 0 && $0 < 0.1 } == true)
        }
        #expect(before["retain_population"] == nil && before["retain_margin"] == nil)
        for key in ["forget_accuracy", "test_accuracy", "validation_accuracy"] {
            #expect(sampledAfter[key] as? Double == after[key] as? Double, "\(key)")
        }
        #expect((again["params"] as? [String: String])?["verify-retain"] == "300")

        let summary = try await LetheProcess.run([
            "summarize", directory.path("first.json"), directory.path("second.json"),
        ])
        #expect(summary.status == 0, "\(summary.standardError)")
        #expect(summary.standardOutput.contains("### Forgetting classes 0"))
        #expect(summary.standardOutput.contains("| scrub epochs=4 lr=0.01 | 2 |"))
        #expect(summary.standardOutput.contains("| *original* | 1 |"))

        // An audit of the first model (as `lethe audit --format json` writes it) adds its columns to that run's
        // row and its original's figures to the original's row.
        let audit =
            #"{"weights": "elsewhere/first.safetensors", "auc": 0.61, "tpr_at_1pct_fpr": 0.05, "original": {"auc": 0.7, "tpr_at_1pct_fpr": 0.25}}"#
        try Data(audit.utf8).write(to: directory.url.appendingPathComponent("first.audit.json"))
        let audited = try await LetheProcess.run([
            "summarize", directory.path("first.json"), directory.path("first.audit.json"),
        ])
        #expect(audited.status == 0, "\(audited.standardError)")
        #expect(audited.standardOutput.contains("| audit AUC % | audit TPR@1%FPR % |"), "\(audited.standardOutput)")
        #expect(audited.standardOutput.contains("| 70.0 | 25.0 |") && audited.standardOutput.contains("| 61.0 | 5.0 |"))
    }

    /// The retrain is written as the reference other runs are judged against, and says it was not judged.
    @Test func theRetrainRunsAsTheReference() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (data, weights) = try await trainOriginal(in: directory)
        let result = try await LetheProcess.run([
            "unlearn", "--method", "retrain", "--model", "fmnist-mlp", "--weights", weights, "--data", data,
            "--forget-fraction", "0.05", "--seed", "1", "--out", directory.path("retrain.safetensors"), "--format",
            "json",
        ])
        try #require(result.status == 0, "\(result.standardError)")
        let verdict = try #require(try helpers.json(result.standardOutput)["verdict"] as? [String: Any])
        #expect(verdict["is_reference"] as? Bool == true && verdict["passed"] as? Bool == true)
        #expect(FileManager.default.fileExists(atPath: directory.path("retrain.safetensors")))
    }

    @Test func confusionScenarioForgetsTheSwappedLabels() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (data, weights) = try await trainOriginal(
            in: directory, extra: ["--confuse-classes", "3,5", "--confuse-count", "40"])
        let result = try await LetheProcess.run([
            "unlearn", "--method", "finetune", "--model", "fmnist-mlp", "--weights", weights, "--data", data,
            "--confuse-classes", "3,5", "--confuse-count", "40", "--param", "epochs=1",
            "--out", directory.path("out.safetensors"), "--report", directory.path("report.json"), "--format", "json",
        ])
        try #require(result.status == 0, "\(result.standardError)")
        let report = try helpers.json(result.standardOutput)
        #expect((report["forget"] as? [String: Any])?["forget_samples"] as? Int == 80)
        let confusion = try #require((report["after"] as? [String: Any])?["confusion"] as? [String: Any])
        #expect(confusion["classes"] as? [Int] == [3, 5])
        let (aAsB, bAsA) = try (
            #require(confusion["a_predicted_as_b"] as? Int), #require(confusion["b_predicted_as_a"] as? Int)
        )

        // Its results table counts the test mistakes between the two classes.
        let summary = try await LetheProcess.run(["summarize", directory.path("report.json")])
        #expect(summary.status == 0, "\(summary.standardError)")
        #expect(summary.standardOutput.contains("| test 3→5 | test 5→3 |"))
        #expect(summary.standardOutput.contains(" | \(aAsB) | \(bAsA) | "), "\(summary.standardOutput)")

        let mismatched = try await LetheProcess.run([
            "unlearn", "--method", "finetune", "--model", "fmnist-mlp", "--weights", weights, "--data", data,
            "--confuse-classes", "3,5", "--confuse-count", "41", "--out", directory.path("x.safetensors"),
        ])
        #expect(mismatched.status == 2)
        #expect(mismatched.standardError.contains("swapped labels"))
    }

    @Test func badRequestsExitWithTwoAndSayWhy() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (data, weights) = try await trainOriginal(in: directory)
        let common = [
            "--model", "fmnist-mlp", "--weights", weights, "--data", data, "--out", directory.path("o.safetensors"),
        ]
        let cases: [([String], String)] = [
            (["--method", "forgetful", "--forget-classes", "0"], "unknown method"),
            (["--method", "unsir", "--forget-fraction", "0.1"], "whole classes"),
            (["--method", "scrub-and-learn", "--forget-fraction", "0.1"], "ruins the model"),
            (["--method", "scrub", "--forget-classes", "0", "--param", "speed=11"], "unknown parameter"),
            (["--method", "scrub", "--forget-classes", "0", "--param", "lr=fast"], "not valid"),
            (["--method", "scrub", "--forget-classes", "12"], "does not exist"),
            (["--method", "scrub", "--confuse-classes", "3,5"], "go together"),
            (["--method", "ssd", "--forget-classes", "0", "--param", "alpha=many"], "alpha must be auto"),
            (["--method", "scrub", "--forget-classes", "0", "--holdout", "test-quarter"], "--holdout takes"),
            (["--method", "scrub", "--forget-classes", "0", "--verify-retain", "2000000"], "verify-retain must be"),
        ]
        for (arguments, message) in cases {
            let result = try await LetheProcess.run(["unlearn"] + arguments + common)
            #expect(result.status == 2, "\(arguments)")
            #expect(result.standardError.contains(message), "\(arguments): \(result.standardError)")
        }

        // SSD that finds no α to forget with (these two dampen nothing) fails, says why, and writes no model.
        let missed = try await LetheProcess.run(
            ["unlearn", "--method", "ssd", "--forget-classes", "0", "--param", "alpha-candidates=1e9:1e8"] + common)
        #expect(missed.status == 1)
        #expect(
            missed.standardError.contains("no α brought the checked forget samples below"), "\(missed.standardError)")
        #expect(!FileManager.default.fileExists(atPath: directory.path("o.safetensors")))

        // A "test set" that repeats the training images cannot be held out.
        let leaky = directory.path("leaky")
        try FileManager.default.createDirectory(atPath: leaky, withIntermediateDirectories: true)
        for (from, to) in [("train", "train"), ("train", "t10k")] {
            for kind in ["images-idx3", "labels-idx1"] {
                try FileManager.default.copyItem(
                    atPath: "\(data)/\(from)-\(kind)-ubyte", toPath: "\(leaky)/\(to)-\(kind)-ubyte")
            }
        }
        let leakyCommon = common.map { $0 == data ? leaky : $0 }
        let overlapping = try await LetheProcess.run(
            ["unlearn", "--method", "finetune", "--forget-fraction", "0.05", "--holdout", "test-half"] + leakyCommon)
        #expect(overlapping.status == 2, "\(overlapping.standardError)")
        #expect(overlapping.standardError.contains("overlaps the training data"), "\(overlapping.standardError)")
    }

    @Test func aCheckpointWithoutASplitIsSteeredByHalfTheTestSetWithTheMethodForSamples() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (data, weights) = try await trainOriginal(in: directory, extra: ["--validation-fraction", "0"])
        let result = try await LetheProcess.run([
            "unlearn", "--model", "fmnist-mlp", "--weights", weights, "--data", data,
            "--forget-fraction", "0.02", "--param", "steps=20", "--param", "keep-failed=true",
            "--out", directory.path("o.safetensors"), "--format", "json",
        ])
        #expect(result.status <= 1, "\(result.standardError)")
        #expect(result.standardError.contains("holdout test-half (default)"), "\(result.standardError)")
        let report = try helpers.json(result.standardOutput)
        // Without --method, samples get the recommended method for samples, and the report says why.
        let choice = try #require(report["method_choice"] as? [String: Any])
        #expect(report["method"] as? String == "calibrated-relabel" && choice["chosen_by"] as? String == "default")
        #expect((choice["reason"] as? String)?.contains("held-out sample") == true)
        let holdout = try #require(report["holdout"] as? [String: Any])
        #expect(holdout["spec"] as? String == "test-half" && holdout["chosen_by"] as? String == "default")
        // Half of each class of the 500 test samples, rounded up, steers; the other 247 are reported.
        #expect((holdout["steering"] as? [String: Any])?["samples"] as? Int == 253)
        #expect((report["after"] as? [String: Any])?["test_samples"] as? Int == 247)
        #expect((report["forget"] as? [String: Any])?["validation_samples"] as? Int == 253)
        let target = (report["verdict"] as? [String: Any])?["forget_target"] as? [String: Any]
        #expect(target?["source"] as? String == "test-half")

        // metrics measures its test figures on the same half; --holdout validation has no split to use.
        let metrics = try await LetheProcess.run([
            "metrics", "--model", "fmnist-mlp", "--weights", weights, "--data", data, "--forget-fraction", "0.02",
            "--format", "json",
        ])
        #expect(metrics.status == 0, "\(metrics.standardError)")
        let measured = try helpers.json(metrics.standardOutput)
        #expect(
            (measured["metrics"] as? [String: Any])?["test_accuracy"] as? Double
                == (report["before"] as? [String: Any])?["test_accuracy"] as? Double)
        #expect((measured["holdout"] as? [String: Any])?["spec"] as? String == "test-half")
        let refused = try await LetheProcess.run([
            "metrics", "--model", "fmnist-mlp", "--weights", weights, "--data", data, "--forget-fraction", "0.02",
            "--holdout", "validation",
        ])
        #expect(refused.status == 2 && refused.standardError.contains("records no validation split"))
    }
}
