import Foundation
import LetheTesting
import Testing
import Wire
import ZeroMQ

/// Worker processes that die and peers that send garbage, against a real coordinator process.
@Suite(.enabled(if: FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist")))
struct WorkerFailureDaemonTests {
    let helpers = EndToEndTests()

    /// Garbage on both of the coordinator's sockets gets error replies; mid-job, SIGTERM to one of three worker
    /// processes makes it say goodbye and exit 0 (its shards are re-queued at once, not after the liveness timeout)
    /// and `kill -9` of another re-queues its shards once it falls silent: the job ends with the bits of an
    /// uninterrupted local run.
    @Test(.timeLimit(.minutes(5)))
    func stoppedAndKilledWorkersAndGarbageChangeNoBits() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (data, weights) = try await UnlearnEndToEndTests().trainOriginal(in: directory)
        let workers = "ipc://\(directory.path("workers.sock"))"
        let control = "ipc://\(directory.path("control.sock"))"
        let coordinator = try LetheProcess.start(
            [
                "coordinator", "--bind", workers, "--control", control, "--state-dir", directory.path("state"),
                // Heartbeats of 500 ms: with 200 ms a stopping worker finishing its task on a CI host whose two
                // cores run the whole suite was declared silent before its goodbye arrived (session 21).
                "--insecure", "--heartbeat-ms", "500",
            ], log: directory.url.appendingPathComponent("coordinator.log"))
        let (alpha, beta, gamma) = try (
            worker("alpha", workers, directory), worker("beta", workers, directory), worker("gamma", workers, directory)
        )
        defer { [coordinator, alpha, beta, gamma].forEach { $0.terminate() } }
        let cli = ["--coordinator", control, "--insecure", "--format", "json"]

        for endpoint in [workers, control] {
            let replies = try sendGarbage(to: endpoint)
            #expect(replies.count == garbage.count, "\(endpoint) answered \(replies.count) of \(garbage.count)")
            #expect(replies.allSatisfy { $0 != nil })
        }

        let request = [
            "--method", "scrub", "--model", "fmnist-mlp", "--weights", weights, "--data", data, "--forget-classes", "0",
            "--seed", "6", "--shards", "4", "--param", "epochs=4", "--param", "retain-fraction=1.0", "--param",
            "max-epochs=2",
        ]
        let id = try await helpers.submit(request + cli)
        try await helpers.waitForSteps(1, of: id, cli: cli, before: "the workers were stopped")
        gamma.terminate()  // SIGTERM
        kill(beta.processIdentifier, SIGKILL)
        gamma.waitUntilExit()
        #expect(gamma.terminationStatus == 0)

        let watch = try await LetheProcess.run(["watch", id] + cli)
        #expect(watch.status == 0, "\(watch.standardError)")
        let result = try await LetheProcess.run(["result", id, "--out", directory.path("remote.safetensors")] + cli)
        try #require(result.status == 0, "\(result.standardError)")
        let local = try await LetheProcess.run(
            ["unlearn"] + request + ["--out", directory.path("local.safetensors"), "--format", "json"])
        try #require(local.status == 0, "\(local.standardError)")
        #expect(
            FileManager.default.contentsEqual(
                atPath: directory.path("remote.safetensors"), andPath: directory.path("local.safetensors")))
        let listed = try await LetheProcess.run(["workers"] + cli.dropLast(2))
        // The dead and the stopped worker have left the pool; the live one is still there.
        let names = listed.standardOutput.split(separator: "\n").compactMap { $0.split(separator: " ").first }
        #expect(
            names.contains("alpha") && !names.contains("beta") && !names.contains("gamma"), "\(listed.standardOutput)")
        // The stopped worker said goodbye (the coordinator did not wait for it to fall silent); the killed one could not.
        let log = try String(contentsOfFile: directory.path("coordinator.log"), encoding: .utf8)
        #expect(log.contains("worker gamma left: shutting down") && !log.contains("worker gamma is silent"), "\(log)")
        #expect(log.contains("worker beta is silent"), "\(log)")
    }

    private func worker(_ name: String, _ endpoint: String, _ directory: TemporaryDirectory) throws -> Process {
        try LetheProcess.start(
            ["worker", "--coordinator", endpoint, "--insecure", "--name", name, "--threads", "1"],
            log: directory.url.appendingPathComponent("\(name).log"))
    }

    /// Messages no peer should send: random bytes, a wrong version, a right version with junk, a missing body.
    private let garbage: [[Frame]] = [
        [Frame([0xDE, 0xAD, 0xBE, 0xEF])],
        [Frame("lethe/0"), Frame([1, 2, 3])],
        [Frame(WireProtocol.versionFrame), Frame(Array(repeating: 0xFF, count: 64))],
        [Frame(WireProtocol.versionFrame), Frame([UInt8]())],
    ]

    /// Sends each garbage message from a fresh DEALER and collects the error of each reply (nil for another reply;
    /// 5 s each at most). Workers and the CLI are both answered with the same error message.
    private func sendGarbage(to endpoint: String) throws -> [ProtocolError?] {
        let context = try ZeroMQContext()
        var replies: [ProtocolError?] = []
        for message in garbage {
            let socket = try ZeroMQSocket(context, type: .dealer)
            defer { socket.close() }
            try socket.set(.receiveTimeout, to: 5000)
            try socket.set(.linger, to: 0)
            try socket.connect(endpoint)
            try socket.send(message)
            if let reply = try socket.receive() {
                replies.append(try WireCodec.decode(reply.frames, as: ControlReply.self).message.protocolError)
            }
        }
        return replies
    }
}
