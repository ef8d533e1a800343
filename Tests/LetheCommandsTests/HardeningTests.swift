import Coordinator
import Foundation
import Jobs
import LetheTesting
import Testing
import Transport
import Wire
import ZeroMQ

/// What a hostile or careless user gets: a clear refusal before any work, and no result that looks like a
/// success when it is not.
@Suite(.enabled(if: FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist")))
struct HardeningTests {
    let helpers = EndToEndTests()

    @Test func absurdSizesBadParametersAndUnwritableOutputsAreRefusedBeforeAnyWork() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (data, weights) = try await UnlearnEndToEndTests().trainOriginal(in: directory)
        let out = directory.path("o.safetensors")
        let common = ["--model", "fmnist-mlp", "--weights", weights, "--data", data, "--forget-classes", "0"]
        let cases: [([String], String)] = [
            (["--method", "scrub", "--shards", "1000000", "--out", out], "shards must be between 1 and 64"),
            (["--method", "retrain", "--shards", "100", "--out", out], "the original's batch size 64"),
            (["--method", "neggrad", "--param", "lr=-1", "--out", out], "lr must be a number > 0"),
            (
                ["--method", "finetune", "--param", "batch-size=10000000", "--out", out],
                "batch-size must be an integer"
            ),
            (["--method", "unsir", "--param", "copies=100000", "--out", out], "copies must be an integer in 1…100"),
            (["--method", "scrub", "--param", "retain-fraction=1.5", "--out", out], "in (0, 1]"),
            (["--method", "scrub", "--out", "/nonexistent/dir/x.safetensors"], "/nonexistent/dir does not exist"),
            (["--method", "scrub", "--out", out, "--report", directory.url.path], "is a directory"),
            (["--method", "scrub", "--out", out, "--workers", "100000"], "--workers must be between 1 and 64"),
        ]
        for (arguments, message) in cases {
            let result = try await LetheProcess.run(["unlearn"] + common + arguments)
            #expect(result.status == 2, "\(arguments): \(result.standardError)")
            #expect(result.standardError.contains(message), "\(arguments): \(result.standardError)")
            #expect(!FileManager.default.fileExists(atPath: out))
        }
        let train = try await LetheProcess.run([
            "train", "--model", "fmnist-mlp", "--data", data, "--batch-size", "1000000", "--out", out,
        ])
        #expect(train.status == 2 && train.standardError.contains("batch size must be in 1…4096"))
        // submit checks the same before connecting to anything.
        let submit = try await LetheProcess.run(
            ["submit", "--method", "scrub", "--shards", "5000", "--insecure", "--timeout", "60"] + common)
        #expect(submit.status == 2 && submit.standardError.contains("shards must be between 1 and 64"))
        let badParam = try await LetheProcess.run(
            ["submit", "--method", "neggrad", "--param", "lr=-1", "--insecure", "--timeout", "60"] + common)
        #expect(badParam.status == 2 && badParam.standardError.contains("lr must be a number > 0"))
    }

    /// SCRUB at these settings (three epochs, lr 0.01) leaves 9.7% of the toy's class 0 against a 5% target: the run fails with its
    /// figures and writes no model; with --keep-failed it writes the model and a report that says it failed.
    @Test func aRunThatMissesItsTargetFailsLoudly() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (data, weights) = try await UnlearnEndToEndTests().trainOriginal(in: directory)
        let request = [
            "unlearn", "--method", "scrub", "--model", "fmnist-mlp", "--weights", weights, "--data", data,
            "--forget-classes", "0", "--seed", "2", "--param", "lr=0.01,epochs=3", "--report", directory.path("r.json"),
            "--html", directory.path("r.html"),
        ]
        let missed = try await LetheProcess.run(request + ["--out", directory.path("missed.safetensors")])
        #expect(missed.status == 1)
        #expect(
            missed.standardError.contains("forget accuracy 9.7% is above the forget target 5.0%"),
            "\(missed.standardError)")
        #expect(missed.standardError.contains("hint:") && missed.standardError.contains("no model was written"))
        #expect(!missed.standardOutput.contains("scrub forgot"))
        #expect(!FileManager.default.fileExists(atPath: directory.path("missed.safetensors")))
        let report = try helpers.json(try String(contentsOfFile: directory.path("r.json"), encoding: .utf8))
        let verdict = try #require(report["verdict"] as? [String: Any])
        #expect(verdict["passed"] as? Bool == false)
        #expect((verdict["misses"] as? [String])?.count == 1)
        #expect(try String(contentsOfFile: directory.path("r.html"), encoding: .utf8).contains("Failed:"))

        let kept = try await LetheProcess.run(
            request + ["--out", directory.path("kept.safetensors"), "--keep-failed", "--format", "json"])
        #expect(kept.status == 1 && kept.standardError.contains("the model was written anyway"))
        #expect(FileManager.default.fileExists(atPath: directory.path("kept.safetensors")))
        #expect((try helpers.json(kept.standardOutput)["verdict"] as? [String: Any])?["passed"] as? Bool == false)

        // The same request with room to forget passes and says so.
        let passed = try await LetheProcess.run(
            request + ["--param", "epochs=4", "--out", directory.path("passed.safetensors")])
        #expect(passed.status == 0, "\(passed.standardError)")
        #expect(passed.standardOutput.contains("scrub forgot classes 0"))
        #expect(passed.standardOutput.contains("forget target 5.0% (classes): met"))
    }

    /// A second coordinator on a live state directory is refused, naming the holder; a killed holder's lock does
    /// not block a restart.
    @Test(.timeLimit(.minutes(2)))
    func oneCoordinatorPerStateDirectory() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        func coordinator(_ name: String) throws -> Process {
            try LetheProcess.start(
                [
                    "coordinator", "--bind", "ipc://\(directory.path("\(name)-w.sock"))", "--control",
                    "ipc://\(directory.path("\(name)-c.sock"))", "--state-dir", directory.path("state"), "--insecure",
                ], log: directory.url.appendingPathComponent("\(name).log"))
        }
        func waitForLog(_ name: String, _ text: String) async throws {
            for _ in 0..<200 {
                let log = (try? String(contentsOfFile: directory.path("\(name).log"), encoding: .utf8)) ?? ""
                if log.contains(text) { return }
                try await Task.sleep(for: .milliseconds(50))
            }
            Issue.record("\(name) never logged '\(text)'")
        }
        let first = try coordinator("first")
        defer { first.terminate() }
        try await waitForLog("first", "coordinator: workers on")
        let second = try coordinator("second")
        second.waitUntilExit()
        #expect(second.terminationStatus == 1)
        try await waitForLog("second", "in use by another coordinator (pid \(first.processIdentifier))")

        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        let third = try coordinator("third")
        defer { third.terminate() }
        try await waitForLog("third", "coordinator: workers on")
        #expect(third.isRunning)
    }
}

extension HardeningTests {
    /// Through a real coordinator and worker: a job that misses its target ends `failed` with the figures (and
    /// `watch` exits 1), and a request the coordinator's decoder refuses is answered with the reason at once.
    @Test(.timeLimit(.minutes(3)))
    func jobsAreJudgedAndRefusalsAnsweredByARealCoordinator() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (data, weights) = try await UnlearnEndToEndTests().trainOriginal(in: directory)
        let workers = "ipc://\(directory.path("workers.sock"))"
        let control = "ipc://\(directory.path("control.sock"))"
        let daemons = [
            try LetheProcess.start(
                [
                    "coordinator", "--bind", workers, "--control", control, "--state-dir", directory.path("state"),
                    "--insecure", "--heartbeat-ms", "200",
                ], log: directory.url.appendingPathComponent("coordinator.log")),
            try LetheProcess.start(
                ["worker", "--coordinator", workers, "--insecure", "--name", "alpha", "--threads", "1"],
                log: directory.url.appendingPathComponent("alpha.log")),
        ]
        defer { daemons.forEach { $0.terminate() } }
        let cli = ["--coordinator", control, "--insecure", "--format", "json"]
        let id = try await helpers.submit(
            [
                "--method", "scrub", "--model", "fmnist-mlp", "--weights", weights, "--data", data, "--forget-classes",
                "0", "--seed", "2", "--param", "lr=0.01,epochs=3",
            ] + cli)
        let watch = try await LetheProcess.run(["watch", id] + cli)
        #expect(watch.status == 1)
        let status = try helpers.json(try await LetheProcess.run(["status", id] + cli).standardOutput)
        #expect(status["state"] as? String == "failed")
        #expect(
            (status["message"] as? String)?.contains("forget accuracy 9.7% is above the forget target 5.0%") == true,
            "\(status)")
        let result = try await LetheProcess.run(["result", id, "--out", directory.path("r.safetensors")] + cli)
        #expect(result.status == 2 && result.standardError.contains("\(id) is failed"), "\(result.standardError)")

        // A submission only the coordinator's decoder can refuse (the CLI checks --shards itself).
        let client = try ControlClient(
            transport: ZeroMQTransport.client(ZeroMQContext(), connect: control, security: .insecure),
            timeoutSeconds: 120)
        defer { client.close() }
        let hash = String(repeating: "a", count: 64)
        do {
            _ = try await client.request(
                .jobSubmit(
                    JobSpec(
                        method: "scrub", params: [:], architecture: "fmnist-mlp", weightsSHA256: hash,
                        trainSHA256: hash, testSHA256: hash, scenarioSHA256: hash, seed: 1, shards: 5000,
                        referenceSHA256: nil, weightsName: "w", forget: "classes 0")))
            Issue.record("a job with 5000 shards was accepted")
        } catch let refusal as ProtocolError {
            #expect(refusal.message.contains("shards 5000 must be between 1 and 4096"), "\(refusal.message)")
        }
    }
}
