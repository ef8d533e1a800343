import Foundation
import Jobs
import LetheTesting
import Testing
import Transport

/// `lethe unlearn --certificate` and `lethe certificate verify|prove|check-proof` as real processes: a signed
/// certificate verifies, replays to the same bits, proves one forget sample, and any edit or other key fails.
@Suite(.enabled(if: FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist")))
struct CertificateEndToEndTests {
    let common = EndToEndTests()

    @Test func aCertifiedRunVerifiesReplaysAndProvesItsSamplesAndEditsFail() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (data, original) = try await common.smallOriginal(
            in: directory, epochs: 2, extra: ["--validation-fraction", "0"])
        let keys = directory.path("keys")
        let initialized = try await LetheProcess.run(["keys", "init", keys])
        try #require(initialized.status == 0 && initialized.standardOutput.contains("signing"))

        let (out, certificate) = (directory.path("unlearned.safetensors"), directory.path("certificate.json"))
        let report = directory.path("report.json")
        let run = try await LetheProcess.run([
            "unlearn", "--model", "fmnist-mlp", "--data", data, "--weights", original, "--forget-fraction", "0.05",
            "--seed", "2", "--method", "finetune", "--param", "epochs=1", "--param", "max-test-drop=1",
            "--param", "max-retain-drop=1", "--out", out, "--report", report, "--certificate", certificate,
            "--sign-key", keys + "/signing.key",
        ])
        try #require(run.status == 0, "\(run.standardError)")
        let written = try String(contentsOfFile: certificate, encoding: .utf8)
        let digest = try #require(
            (common.json(String(contentsOfFile: report, encoding: .utf8))["certificate"]
                as? [String: Any])?["digest"] as? String)
        #expect(run.standardOutput.contains(digest))

        let verify = ["certificate", "verify", certificate, "--public-key", keys + "/signing.pub"]
        let valid = try await LetheProcess.run(verify + ["--weights", out])
        #expect(valid.status == 0 && valid.standardOutput.hasPrefix("valid:"), "\(valid.standardError)")
        let replayed = try await LetheProcess.run(verify + ["--replay", "--weights-in", original, "--data", data])
        #expect(
            replayed.status == 0 && replayed.standardOutput.contains("replayed: the same output sha256"),
            "\(replayed.standardError)")
        // The same certificate with another parameter, signed by the same key: its replay gives other bits.
        var changed = try #require(try UnlearningCertificate(parsing: Array(written.utf8)).body.members)
        var params = try #require(changed["params"]?.members)
        params["epochs"] = .string("2")
        changed["params"] = .object(params)
        let resigned = directory.path("resigned.json")
        try Data(
            try UnlearningCertificate(body: .object(changed)).signed(with: SigningKey.loadPrivate(keys)).document.bytes
        ).write(to: URL(fileURLWithPath: resigned))
        let otherRun = try await LetheProcess.run(
            [
                "certificate", "verify", resigned, "--public-key", keys + "/signing.pub", "--replay", "--weights-in",
                original,
                "--data", data,
            ])
        #expect(otherRun.status == 1 && otherRun.standardError.contains("output_sha256"), "\(otherRun.standardError)")
        // The wrong output, another key, an edited figure: exit 1, naming the field.
        let wrongOutput = try await LetheProcess.run(verify + ["--weights", original])
        #expect(wrongOutput.status == 1 && wrongOutput.standardError.contains("output_sha256"))
        let otherKeys = directory.path("other-keys")
        _ = try await LetheProcess.run(["keys", "init", otherKeys])
        let otherKey = try await LetheProcess.run([
            "certificate", "verify", certificate, "--public-key", otherKeys + "/signing.pub",
        ])
        #expect(otherKey.status == 1 && otherKey.standardError.contains("signature"))
        let edited = directory.path("edited.json")
        let figure = try #require(written.range(of: #""test_accuracy":0\.\d"#, options: .regularExpression))
        var text = written
        text.replaceSubrange(figure.upperBound..<written.index(after: figure.upperBound), with: "9")
        try text.write(toFile: edited, atomically: true, encoding: .utf8)
        let tampered = try await LetheProcess.run([
            "certificate", "verify", edited, "--public-key", keys + "/signing.pub",
        ])
        #expect(tampered.status == 1 && tampered.standardError.contains("changed after signing"))

        // A forget sample's inclusion proof checks against the root without the rest of the set.
        let forget = try #require(try common.json(written)["forget"] as? [String: Any])
        let reported = try common.json(String(contentsOfFile: report, encoding: .utf8))["forget"] as? [String: Any]
        #expect(forget["samples"] as? Int == reported?["forget_samples"] as? Int)
        // A listed forget set: the verifier needs the list, and one sample's proof needs nothing else.
        let list = directory.path("forget.txt")
        try (Array(stride(from: 5, to: 65, by: 6)) + [17, 42]).map { "\($0)\n" }.joined().write(
            toFile: list, atomically: true, encoding: .utf8)
        let listedCertificate = directory.path("listed.json")
        let listed = try await LetheProcess.run([
            "unlearn", "--model", "fmnist-mlp", "--data", data, "--weights", original, "--forget-indices", list,
            "--seed", "2", "--method", "finetune", "--param", "epochs=1", "--param", "max-test-drop=1",
            "--param", "max-retain-drop=1", "--out", directory.path("listed.safetensors"),
            "--certificate", listedCertificate, "--sign-key", keys,
        ])
        try #require(listed.status == 0, "\(listed.standardError)")
        let index = 17
        let indices = directory.path("proof.json")
        let prove = ["certificate", "prove", listedCertificate, "--weights-in", original, "--data", data]
        let needsList = try await LetheProcess.run(prove + ["--index", "17"])
        #expect(needsList.status == 2 && needsList.standardError.contains("--forget-indices"))
        let notListed = try await LetheProcess.run(prove + ["--index", "18", "--forget-indices", list])
        #expect(notListed.status == 2 && notListed.standardError.contains("not in this certificate's forget set"))
        let proof = try await LetheProcess.run(prove + ["--index", "17", "--forget-indices", list])
        try #require(proof.status == 0, "\(proof.standardError)")
        try proof.standardOutput.write(toFile: indices, atomically: true, encoding: .utf8)
        let listedEdited = directory.path("listed-edited.json")
        try String(contentsOfFile: listedCertificate, encoding: .utf8).replacingOccurrences(
            of: "\"passed\":true", with: "\"passed\":false"
        ).write(toFile: listedEdited, atomically: true, encoding: .utf8)
        let checked = try await LetheProcess.run([
            "certificate", "check-proof", indices, "--certificate", listedCertificate, "--data", data,
        ])
        #expect(
            checked.status == 0 && checked.standardOutput.contains("training sample \(index)"),
            "\(checked.standardError)")
        let edit = try await LetheProcess.run(["certificate", "check-proof", indices, "--certificate", listedEdited])
        #expect(edit.status == 0, "the edit changed the verdict, not the root (the signature catches it)")
        let bad = directory.path("bad-proof.json")
        var moved = try common.json(String(contentsOfFile: indices, encoding: .utf8))
        moved["index"] = index + 1
        try JSONSerialization.data(withJSONObject: moved).write(to: URL(fileURLWithPath: bad))
        let wrongIndex = try await LetheProcess.run([
            "certificate", "check-proof", bad, "--certificate", listedCertificate,
        ])
        #expect(wrongIndex.status == 1 && wrongIndex.standardError.contains("forget.merkle_root"))
    }

    /// A coordinator with a signing key certifies each job that passes: `lethe result --certificate` fetches it, it
    /// names the job and the key that asked for it, verifies with the coordinator's public key and replays locally
    /// to the job's bits (from the data as loaded, though the job ran on a test-half holdout's rearranged data), and
    /// the audit log records it.
    @Test(.timeLimit(.minutes(5))) func aCoordinatorCertifiesItsJobsAndTheyReplayLocally() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (data, original) = try await common.smallOriginal(
            in: directory, epochs: 2, extra: ["--validation-fraction", "0"])
        let cluster = try await KeyedCluster(in: directory, workers: ["alpha"])
        defer { cluster.terminate() }
        let cli = cluster.cli + ["--format", "json"]
        let id = try await common.submit(
            [
                "--model", "fmnist-mlp", "--data", data, "--weights", original, "--forget-fraction", "0.05", "--seed",
                "2", "--shards", "2", "--method", "finetune", "--param", "epochs=1", "--param", "max-test-drop=1",
                "--param", "max-retain-drop=1", "--references", "none",
            ] + cli)
        let watch = try await LetheProcess.run(["watch", id] + cli)
        try #require(watch.status == 0, "\(watch.standardError)")
        let (out, certificate, report) = (
            directory.path("remote.safetensors"), directory.path("job.cert"), directory.path("remote.json")
        )
        let result = try await LetheProcess.run(
            ["result", id, "--out", out, "--report", report, "--certificate", certificate] + cli)
        try #require(result.status == 0, "\(result.standardError)")

        let certified = try common.json(String(contentsOfFile: certificate, encoding: .utf8))
        let job = try #require(certified["job"] as? [String: Any])
        #expect(job["id"] as? String == id && !(job["requester_key"] as? String ?? "").isEmpty)
        #expect(certified["holdout"] as? String == "test-half" && certified["shards"] as? Int == 2)
        let reported = try common.json(String(contentsOfFile: report, encoding: .utf8))
        let reference = reported["certificate"] as? [String: Any]
        #expect(reference?["file"] as? String == certificate)

        let verify = ["certificate", "verify", certificate, "--public-key", cluster.keys + "/signing.pub"]
        let valid = try await LetheProcess.run(verify + ["--weights", out])
        #expect(valid.status == 0 && valid.standardOutput.contains(reference?["digest"] as? String ?? "?"))
        let replayed = try await LetheProcess.run(verify + ["--replay", "--weights-in", original, "--data", data])
        #expect(
            replayed.status == 0 && replayed.standardOutput.contains("replayed: the same output sha256"),
            "\(replayed.standardError)")
        let exported = try await LetheProcess.run([
            "audit-log", "export", "--state-dir", directory.path("state"), "--format", "jsonl",
        ])
        #expect(exported.standardOutput.contains("certificate_sha256"), "\(exported.standardError)")
    }

    /// Asking for the certificate of a job that has none (a coordinator without `signing.key`) is refused before
    /// anything is downloaded, saying why; the job's outputs stay fetchable.
    @Test(.timeLimit(.minutes(5))) func aJobWithoutACertificateSaysWhyAndWritesNothing() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (data, original) = try await common.smallOriginal(in: directory)
        let cluster = try await KeyedCluster(in: directory, workers: ["alpha"], signing: false)
        defer { cluster.terminate() }
        let cli = cluster.cli + ["--format", "json"]
        let id = try await common.submit(
            [
                "--model", "fmnist-mlp", "--data", data, "--weights", original, "--forget-classes", "1", "--seed",
                "1", "--method", "neggrad+", "--references", "none", "--keep-failed",
            ] + cli)
        _ = try await LetheProcess.run(["watch", id] + cli)
        let (out, certificate) = (directory.path("remote.safetensors"), directory.path("job.cert"))
        let refused = try await LetheProcess.run(["result", id, "--out", out, "--certificate", certificate] + cli)
        #expect(refused.status == 2 && refused.standardError.contains("has no certificate"), "\(refused.standardError)")
        #expect(!FileManager.default.fileExists(atPath: out) && !FileManager.default.fileExists(atPath: certificate))
        let fetched = try await LetheProcess.run(["result", id, "--out", out] + cli)
        #expect(FileManager.default.fileExists(atPath: out), "\(fetched.standardError)")
    }
}
