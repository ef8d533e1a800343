import Foundation
import LetheTesting
import Testing

/// `lethe submit --references`: a coordinator's job is judged by the membership audit as `lethe unlearn
/// --references` is, with the same difficulty match, audit figures and bits; references that are missing,
/// tampered with or trained for another model are refused before any work.
@Suite(.enabled(if: FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist")))
struct JobAuditEndToEndTests {
    let common = EndToEndTests()

    /// A tiny original without a validation split (so the job holds out half of the test set and its data differs
    /// from the audit's) and two references for it.
    func prepare(in directory: TemporaryDirectory, epochs: Int = 3, cache: [String: String] = [:]) async throws -> (
        data: String, original: String, references: String
    ) {
        let data = try common.makeSubset(in: directory, train: 600, test: 300)
        let original = directory.path("original.safetensors")
        try await AuditEndToEndTests().train(
            data, epochs: epochs, out: original, extra: ["--validation-fraction", "0"])
        let references = directory.path("refs")
        let prepared = try await LetheProcess.run(
            [
                "audit", "prepare", "--weights", original, "--references", "2", "--seed", "5", "--model", "fmnist-mlp",
                "--data", data, "--out", references,
            ], environment: cache)
        try #require(prepared.status == 0, "\(prepared.standardError)")
        return (data, original, references)
    }

    func logs(_ directory: TemporaryDirectory) -> String {
        ["coordinator", "alpha", "beta"].map {
            (try? String(contentsOfFile: directory.path("\($0).log"), encoding: .utf8)) ?? ""
        }.joined(separator: "\n")
    }

    /// The job's report carries the audit and the difficulty match that the local run's report carries, figure for
    /// figure, with the same output bits, and the job passes or fails as the local run does (`--keep-failed` keeps
    /// both models, so that they can be compared either way).
    @Test(.timeLimit(.minutes(5))) func aJobWithReferencesReportsTheLocalAudit() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        // `audit prepare` records the references in this cache, where a submission without --references finds them.
        let cache = ["LETHE_CACHE_DIR": directory.path("cache")]
        let (data, original, references) = try await prepare(in: directory, cache: cache)
        let retrain = directory.path("retrain.safetensors")
        try await AuditEndToEndTests().train(data, epochs: 1, out: retrain, extra: ["--validation-fraction", "0"])
        let request = [
            "--model", "fmnist-mlp", "--weights", original, "--data", data, "--forget-fraction", "0.1", "--seed", "2",
            "--shards", "2", "--param", "steps=20", "--references", references, "--reference", retrain,
            "--keep-failed",
        ]
        let localReport = directory.path("local.json")
        let local = try await LetheProcess.run(
            ["unlearn"] + request + ["--out", directory.path("local.safetensors"), "--report", localReport])
        try #require(local.status <= 1, "\(local.standardError)")

        let cluster = try await KeyedCluster(in: directory, workers: ["alpha", "beta"])
        defer { cluster.terminate() }
        let cli = cluster.cli + ["--format", "json"]
        let id = try await common.submit(request + cli)
        let watch = try await LetheProcess.run(["watch", id] + cli)
        let remoteReport = directory.path("remote.json")
        let result = try await LetheProcess.run(
            ["result", id, "--out", directory.path("remote.safetensors"), "--report", remoteReport] + cli)
        #expect(result.status == local.status, "\(result.standardError)\(logs(directory))")
        #expect(watch.status == local.status, "\(watch.standardOutput)\(logs(directory))")

        let here = try common.json(String(contentsOfFile: localReport, encoding: .utf8))
        let there = try common.json(String(contentsOfFile: remoteReport, encoding: .utf8))
        let audit = try #require(here["audit"] as? [String: Any], "\(local.standardError)")
        #expect((audit["retrain"] as? [String: Any])?["auc"] is Double)
        #expect(here["difficulty_match"] is [String: Any], "references on samples match difficulties")
        // The run's own figures, compared as canonical JSON (`reference` and `out` name the files each side had).
        func canonical(_ value: Any?) throws -> String {
            guard let value else { return "nil" }
            return String(
                decoding: try JSONSerialization.data(withJSONObject: [value], options: [.sortedKeys]), as: UTF8.self)
        }
        for key in ["audit", "difficulty_match", "verdict", "output_sha256", "before", "after", "holdout", "per_class"]
        {
            #expect(try canonical(here[key]) == canonical(there[key]), "\(key) differs")
        }
        // The job's verifications had the workers predict the training samples (before and after), with the
        // figures of the local passes above.
        let verified = logs(directory).components(separatedBy: "verification: the workers predicted").count - 1
        #expect(verified == 2, "\(logs(directory))")
        // `lethe result` names the file it wrote.
        #expect(there["out"] as? String == directory.path("remote.safetensors"))
        #expect(
            FileManager.default.contentsEqual(
                atPath: directory.path("local.safetensors"), andPath: directory.path("remote.safetensors")))
        // Without --references, the job takes the cache's references for its original, as `lethe unlearn` does.
        let cached = try await common.submit(
            request.filter { $0 != "--references" && $0 != references } + cli, environment: cache)
        _ = try await LetheProcess.run(["watch", cached] + cli)
        let fromCache = try common.json(
            try await LetheProcess.run(["result", cached, "--out", directory.path("cached.safetensors")] + cli)
                .standardOutput)
        var audited = try #require(fromCache["audit"] as? [String: Any], "\(fromCache)")
        #expect((audited.removeValue(forKey: "references") as? String)?.hasSuffix("refs") == true)
        #expect(try canonical(audited) == canonical(audit.filter { $0.key != "references" }))
        #expect(fromCache["output_sha256"] as? String == here["output_sha256"] as? String)

        // An exposed forget set fails the job like any missed target, and the status says why.
        let status = try common.json(try await LetheProcess.run(["status", id] + cli).standardOutput)
        if audit["exposed"] as? Bool == true {
            #expect(status["state"] as? String == "failed")
            #expect((status["message"] as? String)?.contains("membership audit") == true, "\(status)")
        } else {
            #expect(status["state"] as? String == (local.status == 0 ? "succeeded" : "failed"))
        }
    }

    /// References that are missing or tampered with are refused by `lethe submit` before anything is uploaded;
    /// references trained for another model are refused by the coordinator at submission (here from a job file's
    /// `references:` key). Each says what was wrong, exits 2 and queues nothing.
    @Test(.timeLimit(.minutes(5))) func missingTamperedOrMismatchedReferencesAreRefusedBeforeWork() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (data, original, references) = try await prepare(in: directory)
        let other = directory.path("other.safetensors")
        try await AuditEndToEndTests().train(data, epochs: 1, out: other, extra: ["--validation-fraction", "0"])
        let cluster = try await KeyedCluster(in: directory, workers: [])
        defer { cluster.terminate() }
        let request = [
            "submit", "--model", "fmnist-mlp", "--data", data, "--forget-fraction", "0.1", "--seed", "2",
            "--method", "finetune",
        ]

        let empty = directory.path("empty")
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        let missing = try await LetheProcess.run(
            request + ["--weights", original, "--references", empty] + cluster.cli)
        #expect(missing.status == 2)
        #expect(missing.standardError.contains("\(empty) holds no reference models"), "\(missing.standardError)")
        #expect(missing.standardError.contains("lethe audit prepare --weights \(original)"))

        let tampered = directory.path("tampered")
        try FileManager.default.copyItem(atPath: references, toPath: tampered)
        let file = URL(fileURLWithPath: tampered).appendingPathComponent("reference-01.safetensors")
        var bytes = try Data(contentsOf: file)
        bytes[bytes.count - 1] ^= 0x01
        try bytes.write(to: file)
        let changed = try await LetheProcess.run(
            request + ["--weights", original, "--references", tampered] + cluster.cli)
        #expect(changed.status == 2)
        #expect(
            changed.standardError.contains("reference-01.safetensors does not match its manifest"),
            "\(changed.standardError)")

        let job = """
            model: fmnist-mlp
            weights: \(other)
            data: \(data)
            forget-fraction: 0.1
            seed: 2
            method: finetune
            references: \(references)
            """
        try job.write(toFile: directory.path("job.yaml"), atomically: true, encoding: .utf8)
        let mismatched = try await LetheProcess.run(["submit", "--job", directory.path("job.yaml")] + cluster.cli)
        #expect(mismatched.status == 2)
        #expect(
            mismatched.standardError.contains(
                "the references in \(references) were trained with another recipe than \(other)"),
            "\(mismatched.standardError)")

        let jobs = try await LetheProcess.run(["jobs", "--format", "json"] + cluster.cli)
        let listed = try JSONSerialization.jsonObject(with: Data(jobs.standardOutput.utf8)) as? [Any]
        #expect(listed?.isEmpty == true, "\(jobs.standardOutput)")
    }
}
