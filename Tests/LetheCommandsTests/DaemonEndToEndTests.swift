import Foundation
import LetheTesting
import Testing

/// The coordinator and workers as real processes with CURVE keys over ipc sockets, driven by the job CLI.
@Suite(.enabled(if: FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist")))
struct DaemonEndToEndTests {
    let helpers = EndToEndTests()

    @Test(.timeLimit(.minutes(5)))
    func submittedJobsRepeatTheLocalBitsOnWorkerProcesses() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (data, weights) = try await UnlearnEndToEndTests().trainOriginal(in: directory)
        let cluster = try await KeyedCluster(in: directory, workers: ["alpha", "beta"])
        defer { cluster.terminate() }
        let (keys, control) = (cluster.keys, cluster.control)
        let cli = ["--coordinator", control, "--keys", keys, "--format", "json"]
        let request = [
            "--method", "scrub", "--model", "fmnist-mlp", "--weights", weights, "--data", data, "--forget-classes", "0",
            "--seed", "2", "--shards", "3", "--param", "lr=0.01", "--param", "epochs=4", "--holdout", "test-half",
        ]
        // The same request as a YAML job file (keys are the flags; the command line's --seed wins); its holdout
        // travels in the scenario, so the coordinator steers and measures with the same halves.
        let job = """
            method: scrub
            model: fmnist-mlp
            weights: \(weights)
            data: \(data)
            forget-classes: [0]
            seed: 9
            shards: 3
            param: {lr: 0.01, epochs: 4}
            holdout: test-half
            """
        try job.write(toFile: directory.path("job.yaml"), atomically: true, encoding: .utf8)
        let id = try await helpers.submit(["--job", directory.path("job.yaml"), "--seed", "2"] + cli)

        let watch = try await LetheProcess.run(["watch", id] + cli)
        #expect(watch.status == 0, "\(watch.standardError)\(log(directory))")
        let result = try await LetheProcess.run(
            [
                "result", id, "--out", directory.path("remote.safetensors"), "--html", directory.path("remote.html"),
                "--report", directory.path("remote.json"),
            ] + cli)
        try #require(result.status == 0, "\(result.standardError)\(log(directory))")
        let remote = try helpers.json(result.standardOutput)
        // The reports name the file `result` wrote, not the coordinator's name for it.
        #expect(remote["out"] as? String == directory.path("remote.safetensors"))
        let written = try helpers.json(String(contentsOfFile: directory.path("remote.json"), encoding: .utf8))
        #expect(written["out"] as? String == directory.path("remote.safetensors"))
        #expect(written["output_sha256"] as? String == remote["output_sha256"] as? String)
        #expect((written["holdout"] as? [String: Any])?["spec"] as? String == "test-half")
        #expect((written["after"] as? [String: Any])?["test_samples"] as? Int == 247)
        let text = try await LetheProcess.run(
            ["result", id, "--out", directory.path("again.safetensors"), "--coordinator", control, "--keys", keys])
        #expect(text.standardOutput.contains("wrote \(directory.path("again.safetensors"))"), "\(text.standardOutput)")

        let local = try await LetheProcess.run(
            ["unlearn"] + request + ["--out", directory.path("local.safetensors"), "--format", "json"])
        try #require(local.status == 0, "\(local.standardError)")
        #expect(
            remote["output_sha256"] as? String == (try helpers.json(local.standardOutput))["output_sha256"] as? String)
        #expect(
            FileManager.default.contentsEqual(
                atPath: directory.path("remote.safetensors"), andPath: directory.path("local.safetensors")))

        let status = try helpers.json(try await LetheProcess.run(["status", id] + cli).standardOutput)
        #expect(status["state"] as? String == "succeeded")
        let listed = try await LetheProcess.run(["workers"] + cli)
        #expect(listed.standardOutput.contains("alpha") && listed.standardOutput.contains("beta"))

        // Unknown jobs and unknown users get clear refusals; the coordinator keeps serving.
        let unknown = try await LetheProcess.run(["status", "job-999"] + cli)
        #expect(unknown.status == 2 && unknown.standardError.contains("no job 'job-999'"))
        let strangers = directory.path("other-keys")
        _ = try await LetheProcess.run(["keys", "init", strangers])
        try FileManager.default.removeItem(atPath: directory.path("other-keys/coordinator.public"))
        try FileManager.default.copyItem(
            atPath: directory.path("keys/coordinator.public"), toPath: directory.path("other-keys/coordinator.public"))
        let refused = try await LetheProcess.run([
            "jobs", "--coordinator", control, "--keys", strangers, "--timeout", "2",
        ])
        #expect(refused.status != 0 && refused.standardError.contains("refused this key"))
        #expect(try await LetheProcess.run(["jobs"] + cli).status == 0)
    }

    /// SIGTERM to the coordinator mid-job: it exits 0 within 8 s (its 3 s grace, then the process's exit, on a CI
    /// host whose two cores run the whole suite: 5.4 s was seen there), having persisted the running job. Restarted on
    /// the same state directory, it resumes the job; `kill -9` of that one mid-job and a second restart resume it
    /// again from its last snapshot. The workers rejoin each time, and the result has the bits of an
    /// uninterrupted local run.
    @Test(.timeLimit(.minutes(5)))
    func aStoppedOrKilledCoordinatorResumesWithTheSameBits() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (data, weights) = try await UnlearnEndToEndTests().trainOriginal(in: directory)
        let workers = "ipc://\(directory.path("workers.sock"))"
        let control = "ipc://\(directory.path("control.sock"))"
        func coordinator(_ name: String) throws -> Process {
            try LetheProcess.start(
                [
                    "coordinator", "--bind", workers, "--control", control, "--state-dir", directory.path("state"),
                    "--insecure", "--heartbeat-ms", "200", "--checkpoint-seconds", "0",
                ], log: directory.url.appendingPathComponent("\(name).log"))
        }
        var first = try coordinator("coordinator")
        let worker = try LetheProcess.start(
            ["worker", "--coordinator", workers, "--insecure", "--name", "alpha", "--threads", "1"],
            log: directory.url.appendingPathComponent("alpha.log"))
        defer {
            worker.terminate()
            first.terminate()
        }
        let cli = ["--coordinator", control, "--insecure", "--format", "json"]
        let request = [
            "--method", "scrub", "--model", "fmnist-mlp", "--weights", weights, "--data", data, "--forget-classes", "0",
            "--seed", "4", "--shards", "2", "--param", "epochs=8", "--param", "retain-fraction=1.0", "--param",
            "max-epochs=2",
        ]
        // Eight epochs: with four, a quick host finished the job between the polls after the restart.
        let id = try await helpers.submit(request + cli)
        try await helpers.waitForSteps(5, of: id, cli: cli, before: "the coordinator was stopped")
        let stopped = ContinuousClock.now
        first.terminate()  // SIGTERM
        first.waitUntilExit()
        #expect(first.terminationStatus == 0, "\(log(directory, ["coordinator"]))")
        #expect(ContinuousClock.now - stopped < .seconds(8))
        #expect(
            try String(contentsOfFile: directory.path("coordinator.log"), encoding: .utf8).contains(
                "shutting down: \(id) persist and resume on restart"))

        first = try coordinator("restarted")
        let status = try helpers.json(try await LetheProcess.run(["status", id] + cli).standardOutput)
        // One step past the restart, so that the job is still running when it is killed even when polls are slow.
        try await helpers.waitForSteps(
            (status["steps_done"] as? Int ?? 0) + 1, of: id, cli: cli, before: "the coordinator was killed")
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        first = try coordinator("restarted-again")

        let watch = try await LetheProcess.run(["watch", id] + cli)
        #expect(
            watch.status == 0,
            "\(watch.standardError)\(log(directory, ["coordinator", "restarted", "restarted-again", "alpha"]))")
        let result = try await LetheProcess.run(["result", id, "--out", directory.path("remote.safetensors")] + cli)
        try #require(result.status == 0, "\(result.standardError)")
        let local = try await LetheProcess.run(
            ["unlearn"] + request + ["--out", directory.path("local.safetensors"), "--format", "json"])
        try #require(local.status == 0, "\(local.standardError)")
        #expect(
            FileManager.default.contentsEqual(
                atPath: directory.path("remote.safetensors"), andPath: directory.path("local.safetensors")))
        // The data touched before the crash counts too.
        #expect(
            try helpers.json(result.standardOutput)["data_touched"] as? [String: Int]
                == (try helpers.json(local.standardOutput))["data_touched"] as? [String: Int])
        #expect(
            try String(contentsOfFile: directory.path("restarted.log"), encoding: .utf8).contains("resumes at phase"))
        let restarted = try String(contentsOfFile: directory.path("restarted-again.log"), encoding: .utf8)
        #expect(restarted.contains("resumes at phase"))
        // The report times the whole run: the work before the crash counts too.
        let before = try #require(
            restarted.firstMatch(of: /after ([0-9.]+) s of work/).flatMap { Double($0.1) }, "\(restarted)")
        #expect(before > 0)
        #expect(try #require(helpers.json(result.standardOutput)["seconds"] as? Double) >= before)
    }

    @Test func badJobFilesExitWithTwoAndSayWhy() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let cases = [
            ("method: [scrub", "not valid YAML"),
            ("- scrub", "must be a mapping"),
            ("method: scrub\nweights: w.safetensors\nforget-classes: 0\nshard: 2", "shard"),
        ]
        for (index, (text, expected)) in cases.enumerated() {
            let path = directory.path("job-\(index).yaml")
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            let result = try await LetheProcess.run(["submit", "--job", path, "--insecure", "--timeout", "1"])
            #expect(result.status == 2, "\(text)")
            #expect(result.standardError.contains(expected), "\(result.standardError)")
        }
        let missing = try await LetheProcess.run(["submit", "--job", directory.path("none.yaml"), "--insecure"])
        #expect(missing.status == 2 && missing.standardError.contains("cannot read the job file"))
    }

    func log(_ directory: TemporaryDirectory, _ names: [String] = ["coordinator", "alpha", "beta"]) -> String {
        names.map {
            "\n--- \($0) ---\n" + ((try? String(contentsOfFile: directory.path("\($0).log"), encoding: .utf8)) ?? "")
        }.joined()
    }
}
