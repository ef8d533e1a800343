import Foundation
import LetheTesting
import Testing

/// The coordinator and workers as real processes with CURVE keys over ipc sockets, driven by the job CLI.
@Suite(.enabled(if: FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist")))
struct DaemonEndToEndTests {
    let helpers = EndToEndTests()

    @Test(.timeLimit(.minutes(5)))
    func submittedJobsRepeatTheLocalBitsOnWorkerProcesses() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (data, weights) = try UnlearnEndToEndTests().trainOriginal(in: directory)
        let keys = directory.path("keys")
        #expect(try LetheProcess.run(["keys", "init", keys]).status == 0)
        let workers = "ipc://\(directory.path("workers.sock"))"
        let control = "ipc://\(directory.path("control.sock"))"
        var daemons = [
            try LetheProcess.start(
                [
                    "coordinator", "--bind", workers, "--control", control, "--state-dir", directory.path("state"),
                    "--keys", keys, "--heartbeat-ms", "200",
                ], log: directory.url.appendingPathComponent("coordinator.log"))
        ]
        for name in ["alpha", "beta"] {
            daemons.append(
                try LetheProcess.start(
                    [
                        "worker", "--coordinator", workers, "--keys", keys, "--name", name, "--cache-dir",
                        directory.path("cache-\(name)"), "--threads", "1",
                    ], log: directory.url.appendingPathComponent("\(name).log")))
        }
        defer { daemons.forEach { $0.terminate() } }
        let cli = ["--coordinator", control, "--keys", keys, "--format", "json"]
        let request = [
            "--method", "scrub", "--model", "fmnist-mlp", "--weights", weights, "--data", data, "--forget-classes", "0",
            "--seed", "2", "--shards", "3", "--param", "lr=0.01",
        ]
        let submit = try LetheProcess.run(["submit"] + request + cli)
        try #require(submit.status == 0, "\(submit.standardError)")
        let id = try #require(try helpers.json(submit.standardOutput)["id"] as? String)

        let watch = try LetheProcess.run(["watch", id] + cli)
        #expect(watch.status == 0, "\(watch.standardError)\(log(directory))")
        let result = try LetheProcess.run(
            ["result", id, "--out", directory.path("remote.safetensors"), "--html", directory.path("remote.html")] + cli
        )
        try #require(result.status == 0, "\(result.standardError)\(log(directory))")
        let remote = try helpers.json(result.standardOutput)

        let local = try LetheProcess.run(
            ["unlearn"] + request + ["--out", directory.path("local.safetensors"), "--format", "json"])
        try #require(local.status == 0, "\(local.standardError)")
        #expect(
            remote["output_sha256"] as? String == (try helpers.json(local.standardOutput))["output_sha256"] as? String)
        #expect(
            FileManager.default.contentsEqual(
                atPath: directory.path("remote.safetensors"), andPath: directory.path("local.safetensors")))

        let status = try helpers.json(try LetheProcess.run(["status", id] + cli).standardOutput)
        #expect(status["state"] as? String == "succeeded")
        let listed = try LetheProcess.run(["workers"] + cli)
        #expect(listed.standardOutput.contains("alpha") && listed.standardOutput.contains("beta"))

        // Unknown jobs and unknown users get clear refusals; the coordinator keeps serving.
        let unknown = try LetheProcess.run(["status", "job-999"] + cli)
        #expect(unknown.status == 2 && unknown.standardError.contains("no job 'job-999'"))
        let strangers = directory.path("other-keys")
        _ = try LetheProcess.run(["keys", "init", strangers])
        try FileManager.default.removeItem(atPath: directory.path("other-keys/coordinator.public"))
        try FileManager.default.copyItem(
            atPath: directory.path("keys/coordinator.public"), toPath: directory.path("other-keys/coordinator.public"))
        let refused = try LetheProcess.run(["jobs", "--coordinator", control, "--keys", strangers, "--timeout", "2"])
        #expect(refused.status != 0 && refused.standardError.contains("did not answer"))
        #expect(try LetheProcess.run(["jobs"] + cli).status == 0)
    }

    func log(_ directory: TemporaryDirectory) -> String {
        ["coordinator", "alpha", "beta"].map {
            "\n--- \($0) ---\n" + ((try? String(contentsOfFile: directory.path("\($0).log"), encoding: .utf8)) ?? "")
        }.joined()
    }
}
