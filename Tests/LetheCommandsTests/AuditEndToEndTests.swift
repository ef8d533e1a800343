import Foundation
import LetheTesting
import Testing

/// `lethe audit prepare` and `lethe audit` as real processes: references reused by hash, refused when trained for
/// another recipe, an audit without references saying what to run, and the report's figures.
@Suite(.enabled(if: FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist")))
struct AuditEndToEndTests {
    let common = EndToEndTests()

    func train(_ data: String, epochs: Int, out: String, extra: [String] = []) async throws {
        let train = try await LetheProcess.run(
            [
                "train", "--model", "fmnist-mlp", "--data", data, "--epochs", "\(epochs)", "--batch-size", "64", "--lr",
                "0.05", "--seed", "3", "--out", out,
            ] + extra)
        try #require(train.status == 0, "\(train.standardError)")
    }

    @Test func referencesAreReusedRefusedForAnotherRecipeAndScoreTheForgetSet() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let data = try common.makeSubset(in: directory, train: 600, test: 300)
        let (original, other) = (directory.path("original.safetensors"), directory.path("other.safetensors"))
        try await train(data, epochs: 2, out: original)
        try await train(data, epochs: 1, out: other)
        let references = directory.path("refs")
        let model = ["--model", "fmnist-mlp", "--data", data]
        let audit = model + ["--forget-fraction", "0.1", "--seed", "2", "--format", "json"]

        // No references yet: the audit says exactly what to run.
        let missing = try await LetheProcess.run(["audit", "--weights", original] + audit)
        #expect(missing.status == 2)
        #expect(missing.standardError.contains("lethe audit prepare --weights"))

        let prepare = ["audit", "prepare", "--weights", original, "--references", "2", "--seed", "5"] + model
        let first = try await LetheProcess.run(prepare + ["--out", references, "--format", "json"])
        try #require(first.status == 0, "\(first.standardError)")
        #expect(try common.json(first.standardOutput)["trained"] as? Int == 2)
        let again = try await LetheProcess.run(prepare + ["--out", references, "--format", "json"])
        #expect(try common.json(again.standardOutput)["reused"] as? Int == 2)
        #expect(try common.json(again.standardOutput)["trained"] as? Int == 0)

        // A model trained with another recipe may not use them, nor add to them.
        let refused = try await LetheProcess.run(
            ["audit", "prepare", "--weights", other, "--references", "2", "--seed", "5", "--out", references] + model)
        #expect(refused.status == 2)
        #expect(refused.standardError.contains("another recipe"))
        let refusedAudit = try await LetheProcess.run(
            ["audit", "--weights", other, "--references", references] + audit)
        #expect(refusedAudit.status == 2)
        #expect(refusedAudit.standardError.contains("another recipe"))

        let scores = directory.path("scores.csv")
        let run = try await LetheProcess.run(
            ["audit", "--weights", original, "--references", references, "--scores", scores] + audit)
        try #require(run.status == 0, "\(run.standardError)")
        let report = try common.json(run.standardOutput)
        let auc = try #require(report["auc"] as? Double)
        let tpr = try #require(report["tpr_at_1pct_fpr"] as? Double)
        #expect(auc >= 0 && auc <= 1 && tpr >= 0 && tpr <= 1)
        let forgetSamples = try #require(report["forget_samples"] as? Int)
        #expect(report["non_members"] as? Int == forgetSamples)
        // The preprocessing the audited samples got is stated, as in unlearning reports.
        let preprocessing = try #require(report["preprocessing"] as? [String: Any])
        #expect(preprocessing["source"] as? String == "training-default", "\(preprocessing)")
        let flagged = try #require(report["flagged"] as? [Int])
        #expect(
            (report["summary"] as? String)
                == "\(flagged.count) of \(forgetSamples) forget samples remain distinguishable at 1% FPR")
        let rows = try String(contentsOfFile: scores, encoding: .utf8).split(separator: "\n")
        #expect(rows.filter { $0.hasPrefix("forget,") }.count == forgetSamples)
        #expect(rows.filter { $0.hasPrefix("non-member,") }.count == forgetSamples)
    }

    /// `lethe audit prepare --coordinator`: each reference is an `audit-reference` job on the coordinator's worker
    /// processes, and the directory it writes (files, hashes, manifest) is the one `lethe audit prepare` writes
    /// here, so the audit's scores are the same either way. A reference description that cannot be trained is
    /// refused at submission.
    @Test(.timeLimit(.minutes(5))) func referencesTrainedOnWorkersHaveTheLocalBits() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let data = try common.makeSubset(in: directory, train: 600, test: 300)
        let original = directory.path("original.safetensors")
        try await train(data, epochs: 2, out: original)
        let cluster = try await KeyedCluster(
            in: directory, workers: ["alpha", "beta"], coordinatorOptions: ["--max-jobs", "2"])
        defer { cluster.terminate() }
        let (keys, control) = (cluster.keys, cluster.control)
        let prepare = [
            "audit", "prepare", "--weights", original, "--references", "2", "--seed", "5", "--model", "fmnist-mlp",
            "--data", data, "--format", "json",
        ]
        let (local, remote) = (directory.path("local-refs"), directory.path("remote-refs"))
        let here = try await LetheProcess.run(prepare + ["--out", local])
        try #require(here.status == 0, "\(here.standardError)")
        let there = try await LetheProcess.run(
            prepare + ["--out", remote, "--coordinator", control, "--keys", keys, "--timeout", "60"])
        let logs = ["coordinator", "alpha", "beta"].map {
            (try? String(contentsOfFile: directory.path("\($0).log"), encoding: .utf8)) ?? ""
        }.joined(separator: "\n")
        try #require(there.status == 0, "\(there.standardError)\(logs)")
        #expect(try common.json(there.standardOutput)["trained"] as? Int == 2)
        for file in ["manifest.json", "reference-00.safetensors", "reference-01.safetensors"] {
            #expect(
                FileManager.default.contentsEqual(atPath: "\(local)/\(file)", andPath: "\(remote)/\(file)"),
                "\(file) differs")
        }
        // Two audit-reference jobs ran on the coordinator.
        let listed = try await LetheProcess.run(["jobs", "--coordinator", control, "--keys", keys, "--format", "json"])
        let jobs = try #require(
            try JSONSerialization.jsonObject(with: Data(listed.standardOutput.utf8)) as? [[String: Any]])
        #expect(jobs.filter { $0["method"] as? String == "train" && $0["state"] as? String == "succeeded" }.count == 2)
        let again = try await LetheProcess.run(
            prepare + ["--out", remote, "--coordinator", control, "--keys", keys])
        #expect(try common.json(again.standardOutput)["reused"] as? Int == 2, "\(again.standardError)")
    }

    /// `lethe unlearn --references`: the report carries the membership audit of the unlearned model (with the
    /// original's and the retrain's figures), the console says how many forget samples remain distinguishable, and
    /// an exposed forget set is a missed target (exit 1, no model). References for another recipe are refused
    /// before the method runs.
    @Test func unlearnReportsCarryTheAuditAndAnExposedForgetSetFails() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let data = try common.makeSubset(in: directory, train: 600, test: 300)
        let (original, other) = (directory.path("original.safetensors"), directory.path("other.safetensors"))
        try await train(data, epochs: 3, out: original)
        try await train(data, epochs: 1, out: other)
        let references = directory.path("refs")
        let prepared = try await LetheProcess.run([
            "audit", "prepare", "--weights", original, "--references", "2", "--seed", "5", "--model", "fmnist-mlp",
            "--data", data, "--out", references,
        ])
        try #require(prepared.status == 0, "\(prepared.standardError)")
        let request = [
            "unlearn", "--model", "fmnist-mlp", "--data", data, "--forget-fraction", "0.1", "--seed", "2",
            "--references", references,
        ]
        // A do-nothing run (finetune with a vanishing learning rate) leaves the original's exposure as it was.
        let out = directory.path("unlearned.safetensors")
        let report = directory.path("report.json")
        let run = try await LetheProcess.run(
            request + [
                "--weights", original, "--method", "finetune", "--param", "lr=0.000001", "--param", "epochs=1",
                "--out", out, "--report", report,
            ])
        let json = try common.json(String(contentsOfFile: report, encoding: .utf8))
        let audit = try #require(json["audit"] as? [String: Any], "\(run.standardError)")
        let exposed = try #require(audit["exposed"] as? Bool)
        let flagged = try #require((audit["figures"] as? [String: Any])?["flagged_at_1pct_fpr"] as? [Int])
        let forgetSamples = try #require(audit["forget_samples"] as? Int)
        #expect((json["forget"] as? [String: Any])?["forget_samples"] as? Int == forgetSamples)
        #expect((audit["original"] as? [String: Any])?["auc"] is Double)
        let auc = try #require((audit["figures"] as? [String: Any])?["auc"] as? Double)
        #expect(
            exposed
                == (flagged.count > (audit["allowed_flagged"] as? Int ?? -1)
                    || auc > (audit["allowed_auc"] as? Double ?? -1)))
        #expect(
            run.standardOutput.contains("membership audit: \(flagged.count) of \(forgetSamples) forget samples remain"))
        let html = directory.path("report.html")
        _ = try await LetheProcess.run(
            request + [
                "--weights", original, "--method", "finetune", "--param", "lr=0.000001", "--param", "epochs=1",
                "--out", directory.path("kept.safetensors"), "--html", html, "--keep-failed",
            ])
        let page = try String(contentsOfFile: html, encoding: .utf8)
        #expect(page.contains("<h2>Membership audit</h2>") && page.contains("aria-label=\"audit score histogram\""))
        let histogram = try #require(audit["histogram"] as? [String: Any])
        #expect((histogram["forget"] as? [Int])?.reduce(0, +) == forgetSamples)
        // The references chose a difficulty-matched stand-in for every forget sample, and say so.
        let match = try #require(json["difficulty_match"] as? [String: Any])
        #expect((match["stand_ins"] as? [Int])?.count == forgetSamples && match["references"] as? Int == 2)
        #expect(run.standardOutput.contains("held-out stand-ins matched to the forget samples' difficulty"))
        // `lethe summarize` reads the report back, audit included, as its own row.
        let summary = try await LetheProcess.run(["summarize", report])
        #expect(summary.status == 0 && summary.standardOutput.contains("(stand-ins) |"), "\(summary.standardError)")
        #expect(summary.standardOutput.contains("audit AUC %"))
        let verdict = try #require(json["verdict"] as? [String: Any])
        if exposed {
            #expect(run.status == 1 && verdict["passed"] as? Bool == false)
            #expect(!FileManager.default.fileExists(atPath: out))
        } else {
            #expect((verdict["misses"] as? [String])?.contains { $0.hasPrefix("membership audit") } == false)
        }

        let refused = try await LetheProcess.run(
            request + ["--weights", other, "--method", "finetune", "--out", directory.path("o.safetensors")])
        #expect(refused.status == 2)
        #expect(refused.standardError.contains("another recipe"))
        #expect(!refused.standardError.contains("finetune on"), "the method ran before the references were checked")
    }

    @Test func preparedReferencesAreFoundInTheCacheByTheCheckpointTheyWerePreparedFor() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let data = try common.makeSubset(in: directory, train: 600, test: 300)
        let (original, other) = (directory.path("original.safetensors"), directory.path("other.safetensors"))
        try await train(data, epochs: 2, out: original)
        try await train(data, epochs: 1, out: other)
        let cache = ["LETHE_CACHE_DIR": directory.path("cache")]
        let model = ["--model", "fmnist-mlp", "--data", data]
        let forget = ["--forget-fraction", "0.1", "--seed", "2"]

        // Without --out the references go into the cache; with --out the cache links to them.
        let prepare = ["audit", "prepare", "--references", "2", "--seed", "5"] + model
        let intoCache = try await LetheProcess.run(prepare + ["--weights", original], environment: cache)
        try #require(intoCache.status == 0, "\(intoCache.standardError)")
        let elsewhere = directory.path("other-refs")
        let linked = try await LetheProcess.run(
            prepare + ["--weights", other, "--out", elsewhere], environment: cache)
        try #require(linked.status == 0, "\(linked.standardError)")
        let entries = try FileManager.default.contentsOfDirectory(atPath: directory.path("cache/references"))
        #expect(entries.count == 2)

        // `lethe audit` and `lethe unlearn` of either checkpoint find them without being told.
        for weights in [original, other] {
            let audit = try await LetheProcess.run(
                ["audit", "--weights", weights, "--format", "json"] + model + forget, environment: cache)
            #expect(audit.status == 0 && audit.standardError.contains("from the cache"), "\(audit.standardError)")
            #expect(try common.json(audit.standardOutput)["auc"] is Double)
        }
        let unlearn =
            ["unlearn", "--weights", original, "--method", "finetune", "--param", "lr=0.000001", "--keep-failed"]
            + model + forget
        let report = directory.path("report.json")
        _ = try await LetheProcess.run(
            unlearn + ["--out", directory.path("u.safetensors"), "--report", report], environment: cache)
        #expect(try common.json(String(contentsOfFile: report, encoding: .utf8))["audit"] is [String: Any])
        // `--references none` runs without them; another cache has none.
        for (extra, environment) in [(["--references", "none"], cache), ([], [String: String]())] {
            let plain = directory.path("plain.json")
            let run = try await LetheProcess.run(
                unlearn + extra + ["--out", directory.path("p.safetensors"), "--report", plain],
                environment: environment)
            #expect(run.status == 0, "\(run.standardError)")
            #expect(try common.json(String(contentsOfFile: plain, encoding: .utf8))["audit"] == nil)
        }
    }
}
