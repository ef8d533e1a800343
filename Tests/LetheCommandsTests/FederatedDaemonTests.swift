import Checkpoint
import Foundation
import LetheTesting
import Testing

/// A federation of real processes: a coordinator and `lethe client` daemons over ipc sockets, driven by the CLI.
@Suite(.enabled(if: FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist")))
struct FederatedDaemonTests {
    let helpers = EndToEndTests()

    /// With CURVE keys: a client whose key is not on the allowlist never joins, and `kill -9` of the coordinator
    /// between rounds loses nothing: restarted on its state directory, it resumes the federation once the clients
    /// are back and ends with the bits of an uninterrupted run.
    @Test(.timeLimit(.minutes(5)))
    func aKilledCoordinatorResumesTheFederationWithTheSameBits() async throws {
        let federation = try await Federation(heartbeatMilliseconds: 500, keys: true)
        defer { federation.stop() }
        let strangers = federation.directory.path("stranger-keys")
        #expect(try await LetheProcess.run(["keys", "init", strangers]).status == 0)
        #expect(try await LetheProcess.run(["keys", "add-client", "--keys", strangers, "stranger"]).status == 0)
        try FileManager.default.removeItem(atPath: "\(strangers)/coordinator.public")
        try FileManager.default.copyItem(
            atPath: federation.directory.path("keys/coordinator.public"), toPath: "\(strangers)/coordinator.public")
        federation.startClient(1, of: 3, name: "stranger", keys: strangers)
        (1...3).forEach { federation.startClient($0, of: 3) }

        let uninterrupted = try await federation.submit(rounds: 12)
        #expect(try await federation.watch(uninterrupted))
        let expected = try await federation.result(uninterrupted)

        let interrupted = try await federation.submit(rounds: 12)
        try await federation.helpers.waitForSteps(
            2, of: interrupted, cli: federation.cli, before: "the coordinator was killed")
        federation.killCoordinator()
        federation.startCoordinator()
        #expect(try await federation.watch(interrupted), "\(federation.logs)")
        let resumed = try await federation.result(interrupted)
        #expect(resumed.weights == expected.weights, "\(federation.logs)")
        #expect(federation.log("coordinator-2").contains("\(interrupted) resumes after round"))

        let clients = (resumed.report["clients"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        #expect(Set(clients) == ["client-1", "client-2", "client-3"])
        let listed = try await LetheProcess.run(["workers"] + federation.cli)
        #expect(listed.status == 0 && listed.standardOutput.contains("client-2"))
        #expect(!listed.standardOutput.contains("stranger"))

        // Forgetting client-2 with conda: a job on the coordinator, reported before and after, audited, and
        // certified with the coordinator's signing key (the certificate names the client's key and the ledger).
        let (report, certificate) = (federation.directory.path("conda.json"), federation.directory.path("conda.cert"))
        let out = federation.directory.path("conda.safetensors")
        let forget = try await LetheProcess.run(
            [
                "forget-client", interrupted, "--client", "client-2", "--method", "conda", "--report", report,
                "--certificate", certificate, "--out", out,
            ] + federation.cli)
        try #require(forget.status == 0, "\(forget.standardError)\(federation.logs)")
        let conda = try helpers.json(try String(contentsOfFile: report, encoding: .utf8))
        let verify = [
            "certificate", "verify", certificate, "--public-key", federation.directory.path("keys/signing.pub"),
        ]
        let verified = try await LetheProcess.run(verify + ["--weights", out])
        #expect(verified.status == 0, "\(verified.standardError)")
        #expect(verified.standardOutput.contains((conda["certificate"] as? [String: Any])?["digest"] as? String ?? "?"))
        let certified = try helpers.json(try String(contentsOfFile: certificate, encoding: .utf8))
        #expect((certified["client"] as? [String: Any])?["name"] as? String == "client-2")
        #expect((certified["job"] as? [String: Any])?["id"] as? String == conda["job"] as? String)
        #expect(
            certified["ledger_sha256"] is String
                && certified["output_sha256"] as? String == conda["output_sha256"] as? String)
        let replay = try await LetheProcess.run(verify + ["--replay", "--weights-in", out])
        #expect(replay.status == 2 && replay.standardError.contains("clients' own data"))
        #expect(conda["method"] as? String == "conda" && conda["source_job"] as? String == interrupted)
        #expect((conda["dampened_parameters"] as? Int ?? 0) > 0)
        let after = conda["after"] as? [String: Any] ?? [:]
        #expect(after["test_accuracy"] is Double && after["forgotten_accuracy"] is Double)
        let unknown = try await LetheProcess.run(
            ["forget-client", interrupted, "--client", "nobody", "--method", "conda"] + federation.cli)
        #expect(unknown.status != 0 && unknown.standardError.contains("no client 'nobody'"))
    }

    /// `kill -9` of a client mid-training: the rounds go on without it and, restarted, it takes part again in
    /// later rounds of the same job.
    @Test(.timeLimit(.minutes(5)))
    func aKilledClientMissesRoundsAndRejoins() async throws {
        let federation = try await Federation(heartbeatMilliseconds: 200, keys: false)
        defer { federation.stop() }
        // Trained on unnormalised pixels (ToTensor()-style), which the federated model's checkpoint records.
        federation.clientArguments = ["--normalize", "none"]
        (1...3).forEach { federation.startClient($0, of: 3) }
        try await federation.waitUntilOnline(["client-1", "client-2", "client-3"])
        // 80 rounds: with 40, a run once ended before the restarted client was back online.
        let job = try await federation.submit(rounds: 80, extra: ["--normalize", "none"])
        // Killed as soon as the job is in: waiting for a round first raced the whole job on a loaded machine (a
        // status poll is a process start, and the small rounds can all end before it answers).
        federation.killClient(3)
        try await federation.waitUntil(client: "client-3", is: "offline", during: job)
        // Restarted only once a round went on without it: a quick machine otherwise brings it back before the
        // first round, and it takes part in every one.
        try await federation.waitUntil(roundsOf: job, reach: 1)
        federation.startClient(3, of: 3)
        try await federation.waitUntil(client: "client-3", is: "online", during: job)
        #expect(try await federation.watch(job), "\(federation.logs)")
        let rounds = try await federation.result(job).report["rounds"] as? [[String: Any]] ?? []
        let participants = rounds.map { $0["participants"] as? [String] ?? [] }
        #expect(participants.contains { !$0.contains("client-3") }, "client-3 took part in every round")
        #expect(participants.last == ["client-1", "client-2", "client-3"], "\(federation.logs)")
        #expect(rounds.count == 80)
        let checkpoint = try SafetensorsFile(
            data: try Data(contentsOf: URL(fileURLWithPath: federation.directory.path("\(job).safetensors"))))
        #expect(checkpoint.metadata["lethe.normalization"] == "none", "\(checkpoint.metadata)")
    }
}

/// A coordinator and its federated clients as processes in a temporary directory.
final class Federation {
    let directory: TemporaryDirectory
    let data: String
    let clientEndpoint: String
    let cli: [String]
    private let security: [String]
    private let heartbeatMilliseconds: Int
    private var coordinator: Process?
    private var coordinatorStarts = 0
    private var clients: [String: Process] = [:]
    /// Given to every client started from now on.
    var clientArguments: [String] = []
    let helpers = EndToEndTests()

    init(heartbeatMilliseconds: Int, keys: Bool) async throws {
        directory = try TemporaryDirectory()
        data = try helpers.makeSubset(in: directory, train: 1200, test: 300)
        clientEndpoint = "ipc://\(directory.path("workers.sock"))"
        self.heartbeatMilliseconds = heartbeatMilliseconds
        if keys {
            let keyDirectory = directory.path("keys")
            try #require(try await LetheProcess.run(["keys", "init", keyDirectory]).status == 0)
            for k in 1...3 {
                try #require(
                    try await LetheProcess.run(["keys", "add-client", "--keys", keyDirectory, "client-\(k)"]).status
                        == 0)
            }
            security = ["--keys", keyDirectory]
        } else {
            security = ["--insecure"]
        }
        cli = ["--coordinator", "ipc://\(directory.path("control.sock"))", "--format", "json"] + security
        startCoordinator()
    }

    func startCoordinator() {
        coordinatorStarts += 1
        coordinator = try? LetheProcess.start(
            [
                "coordinator", "--bind", clientEndpoint, "--control", "ipc://\(directory.path("control.sock"))",
                "--state-dir", directory.path("state"), "--heartbeat-ms", String(heartbeatMilliseconds),
            ] + security, log: directory.url.appendingPathComponent("coordinator-\(coordinatorStarts).log"))
    }

    func killCoordinator() {
        guard let coordinator else { return }
        kill(coordinator.processIdentifier, SIGKILL)
        coordinator.waitUntilExit()
    }

    /// Starts client K of N (its own key when the federation has keys, or those of `keys`).
    func startClient(_ index: Int, of count: Int, name: String? = nil, keys: String? = nil) {
        let name = name ?? "client-\(index)"
        let security = keys.map { ["--keys", $0] } ?? self.security
        clients[name] = try? LetheProcess.start(
            [
                "client", "--coordinator", clientEndpoint, "--name", name, "--data", data, "--partition",
                "\(index)/\(count)", "--split", "iid", "--seed", "3", "--threads", "1",
            ] + clientArguments + security, log: directory.url.appendingPathComponent("\(name).log"))
    }

    func killClient(_ index: Int) {
        guard let client = clients["client-\(index)"] else { return }
        kill(client.processIdentifier, SIGKILL)
        client.waitUntilExit()
    }

    func submit(rounds: Int, extra: [String] = []) async throws -> String {
        try await helpers.submit(
            [
                "--federated", "--model", "fmnist-mlp", "--data", data, "--rounds", String(rounds), "--clients", "3",
                "--seed", "5", "--param", "batch-size=32", "--param", "lr=0.05",
            ] + extra + cli)
    }

    /// Waits until `lethe workers` lists every one of `clients` online.
    func waitUntilOnline(_ clients: Set<String>) async throws {
        while true {
            let listed = try await LetheProcess.run(["workers"] + cli)
            let workers = try JSONSerialization.jsonObject(with: Data(listed.standardOutput.utf8)) as? [[String: Any]]
            let online = Set(
                (workers ?? []).filter { $0["state"] as? String == "online" }.compactMap { $0["name"] as? String })
            if clients.isSubset(of: online) { return }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Waits until `lethe workers` shows the client in `state`; `job` must still be running meanwhile.
    func waitUntil(client: String, is state: String, during job: String) async throws {
        try await poll(job, until: "\(client) was \(state)") { _ in
            let listed = try await LetheProcess.run(["workers"] + self.cli)
            let workers = try JSONSerialization.jsonObject(with: Data(listed.standardOutput.utf8)) as? [[String: Any]]
            return workers?.contains { $0["name"] as? String == client && $0["state"] as? String == state } == true
        }
    }

    /// Waits until `lethe status` shows at least `rounds` rounds of the job done; it must still be running.
    func waitUntil(roundsOf job: String, reach rounds: Int) async throws {
        try await poll(job, until: "round \(rounds)") { status in
            (status["phases"] as? [[String: Any]] ?? []).contains { ($0["completed"] as? Int ?? 0) >= rounds }
        }
    }

    /// Polls `lethe status` of `job` until `done` holds, requiring the job to be running until then.
    private func poll(
        _ job: String, until what: String, _ done: ([String: Any]) async throws -> Bool
    ) async throws {
        while true {
            let status = try helpers.json(try await LetheProcess.run(["status", job] + cli).standardOutput)
            try #require(["queued", "running"].contains(status["state"] as? String), "\(job) ended before \(what)")
            if try await done(status) { return }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    func watch(_ job: String) async throws -> Bool {
        try await LetheProcess.run(["watch", job] + cli).status == 0
    }

    /// The job's weights (a hash of their bits; the file's metadata names the job) and its JSON report.
    func result(_ job: String) async throws -> (weights: String, report: [String: Any]) {
        let (weights, report) = (directory.path("\(job).safetensors"), directory.path("\(job).json"))
        let result = try await LetheProcess.run(["result", job, "--out", weights, "--report", report] + cli)
        try #require(result.status == 0, "\(result.standardError)")
        let file = try SafetensorsFile(data: try Data(contentsOf: URL(fileURLWithPath: weights)))
        return (
            BitHash.of(file.entries.map(\.tensor)),
            try helpers.json(try String(contentsOfFile: report, encoding: .utf8))
        )
    }

    func log(_ name: String) -> String {
        (try? String(contentsOfFile: directory.path("\(name).log"), encoding: .utf8)) ?? ""
    }

    var logs: String {
        let names = (1...coordinatorStarts).map { "coordinator-\($0)" } + clients.keys.sorted()
        return names.map { "\n--- \($0) ---\n" + log($0) }.joined()
    }

    func stop() {
        coordinator?.terminate()
        clients.values.forEach { $0.terminate() }
        directory.remove()
    }
}
