import Foundation
import LetheTesting
import Testing
import ZeroMQ

/// Connection problems as real processes meet them: each ends the command with a message that names the problem,
/// well before the answer timeout (60 s here, so that only the diagnosis can produce the message it is checked
/// for; a loaded CI machine makes wall-clock bounds flaky). No fixed ports: free ones are found by binding.
struct ConnectionDiagnosisTests {
    /// A CURVE coordinator on a free loopback port (control) and an ipc socket (workers), with its key directory.
    struct Coordinator {
        let directory: TemporaryDirectory
        let process: Process
        let port: Int
        var control: String { "tcp://127.0.0.1:\(port)" }
        var keys: String { directory.path("keys") }
        var workers: String { "ipc://\(directory.path("workers.sock"))" }

        static func start(in directory: TemporaryDirectory) async throws -> Coordinator {
            try #require(try await LetheProcess.run(["keys", "init", directory.path("keys")]).status == 0)
            let port = try freePort()
            let process = try LetheProcess.start(
                [
                    "coordinator", "--bind", "ipc://\(directory.path("workers.sock"))", "--control",
                    "tcp://127.0.0.1:\(port)", "--state-dir", directory.path("state"), "--keys", directory.path("keys"),
                ], log: directory.url.appendingPathComponent("coordinator.log"))
            let coordinator = Coordinator(directory: directory, process: process, port: port)
            try await coordinator.waitUntilListening()
            return coordinator
        }

        /// Waits for the line the coordinator logs once both endpoints are bound.
        func waitUntilListening() async throws {
            let deadline = ContinuousClock.now + .seconds(120)
            while ContinuousClock.now < deadline {
                if log.contains("control on") { return }
                try #require(process.isRunning, "the coordinator exited: \(log)")
                try await Task.sleep(for: .milliseconds(50))
            }
            Issue.record("the coordinator did not start: \(log)")
        }

        var log: String { (try? String(contentsOfFile: directory.path("coordinator.log"), encoding: .utf8)) ?? "" }

        /// A second key directory whose user and worker keys the coordinator has never seen, trusting its key.
        func strangerKeys() async throws -> String {
            let strangers = directory.path("stranger-keys")
            try #require(try await LetheProcess.run(["keys", "init", strangers]).status == 0)
            try FileManager.default.removeItem(atPath: "\(strangers)/coordinator.public")
            try FileManager.default.copyItem(
                atPath: "\(keys)/coordinator.public", toPath: "\(strangers)/coordinator.public")
            return strangers
        }
    }

    /// A loopback TCP port nothing listens on (bound to find it, then closed).
    static func freePort() throws -> Int {
        let socket = try ZeroMQSocket(ZeroMQContext(), type: .router)
        let endpoint = try socket.bind("tcp://127.0.0.1:*")
        try socket.unbind(endpoint)
        socket.close()
        return try #require(endpoint.split(separator: ":").last.flatMap { Int($0) })
    }

    @Test func nothingListeningIsSaid() async throws {
        let port = try Self.freePort()
        let result = try await LetheProcess.run([
            "jobs", "--coordinator", "tcp://127.0.0.1:\(port)", "--insecure", "--timeout", "60",
        ])
        #expect(result.status == 1)
        #expect(result.standardError.contains("could not connect to tcp://127.0.0.1:\(port): nothing is listening"))
    }

    @Test func aKeyNotOnTheAllowlistIsNamedAndTheFixToo() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let coordinator = try await Coordinator.start(in: directory)
        defer { coordinator.process.terminate() }
        let strangers = try await coordinator.strangerKeys()
        let strangerKey = try String(contentsOfFile: "\(strangers)/user.public", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)

        let result = try await LetheProcess.run([
            "jobs", "--coordinator", coordinator.control, "--keys", strangers, "--timeout", "60",
        ])
        #expect(result.status == 1)
        #expect(
            result.standardError.contains("the coordinator at \(coordinator.control) refused this key"),
            "\(result.standardError)")
        #expect(result.standardError.contains("users.allow"))
        #expect(result.standardError.contains("lethe keys add-user --keys DIR '\(strangerKey)'"))
        #expect(coordinator.log.contains("refused a user connection"))
    }

    @Test func plaintextAgainstCurveIsAMismatch() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let coordinator = try await Coordinator.start(in: directory)
        defer { coordinator.process.terminate() }

        let result = try await LetheProcess.run([
            "jobs", "--coordinator", coordinator.control, "--insecure", "--timeout", "60",
        ])
        #expect(result.status == 1)
        #expect(result.standardError.contains("the security handshake with \(coordinator.control) failed"))
        // Which of the two the client sees depends on who reads the other's greeting first.
        #expect(
            result.standardError.contains("the coordinator uses CURVE (or another security mechanism)")
                || result.standardError.contains("the coordinator broke it off, as it does when it uses CURVE"),
            "\(result.standardError)")
        #expect(result.standardError.contains("give --keys DIR (or set LETHE_KEYS) instead of --insecure"))
    }

    @Test func hostAndPortWithoutASchemeReachesTheCoordinator() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let coordinator = try await Coordinator.start(in: directory)
        defer { coordinator.process.terminate() }

        let result = try await LetheProcess.run([
            "jobs", "--coordinator", "127.0.0.1:\(coordinator.port)", "--keys", coordinator.keys, "--format", "json",
        ])
        #expect(result.status == 0, "\(result.standardError)")
        let viaVariable = try await LetheProcess.run(
            ["jobs", "--keys", coordinator.keys], environment: ["LETHE_COORDINATOR": "127.0.0.1:\(coordinator.port)"])
        #expect(viaVariable.status == 0, "\(viaVariable.standardError)")
    }

    @Test func aWorkerLogsARefusedKeyOnceAndKeepsTrying() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let coordinator = try await Coordinator.start(in: directory)
        defer { coordinator.process.terminate() }
        let strangers = try await coordinator.strangerKeys()
        let logFile = directory.url.appendingPathComponent("worker.log")
        let worker = try LetheProcess.start(
            ["worker", "--coordinator", coordinator.workers, "--keys", strangers, "--name", "stranger"], log: logFile)
        defer { worker.terminate() }
        func log() -> String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }
        let deadline = ContinuousClock.now + .seconds(60)
        while !log().contains("refused this key"), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        try await Task.sleep(for: .seconds(2))  // many more refused attempts (ZeroMQ retries every 100 ms)
        #expect(log().components(separatedBy: "refused this key").count == 2, "\(log())")
        #expect(log().contains("lethe keys add-worker --keys DIR"))
        #expect(worker.isRunning)
    }

    @Test(arguments: [
        ["jobs", "--coordinator", "tcp://localhost", "--insecure"],
        ["jobs", "--coordinator", "http://localhost:7701", "--insecure"],
        ["jobs", "--coordinator", "", "--insecure"],
        ["coordinator", "--bind", "tcp://0.0.0.0", "--state-dir", "unused", "--insecure"],
        ["coordinator", "--control", "localhost", "--state-dir", "unused", "--insecure"],
        ["worker", "--coordinator", "udp://127.0.0.1:7700", "--insecure"],
        ["client", "--coordinator", "7700", "--insecure", "--partition", "1/2"],
    ])
    func malformedEndpointsAreBadUsage(_ arguments: [String]) async throws {
        let result = try await LetheProcess.run(arguments)
        #expect(result.status == 2, "\(result.standardError)")
        #expect(result.standardError.contains("expected tcp://HOST:PORT, HOST:PORT, ipc://PATH or inproc://NAME"))
        #expect(!FileManager.default.fileExists(atPath: "unused"))
    }
}
