import Foundation
import LetheTesting
import Testing

/// A coordinator and named worker processes with CURVE keys over ipc sockets in a test's directory (logs in
/// `<name>.log`); `cli` is what the job commands need to reach it.
struct KeyedCluster {
    let keys: String
    let control: String
    private(set) var daemons: [Process] = []

    /// `signing: false` leaves the coordinator without `signing.key` (its jobs get no certificates).
    init(
        in directory: TemporaryDirectory, workers names: [String], coordinatorOptions: [String] = [],
        signing: Bool = true
    ) async throws {
        keys = directory.path("keys")
        control = "ipc://\(directory.path("control.sock"))"
        #expect(try await LetheProcess.run(["keys", "init", keys]).status == 0)
        if !signing { try FileManager.default.removeItem(atPath: "\(keys)/signing.key") }
        let workers = "ipc://\(directory.path("workers.sock"))"
        daemons.append(
            try LetheProcess.start(
                [
                    "coordinator", "--bind", workers, "--control", control, "--state-dir", directory.path("state"),
                    "--keys", keys, "--heartbeat-ms", "200",
                ] + coordinatorOptions, log: directory.url.appendingPathComponent("coordinator.log")))
        for name in names {
            daemons.append(
                try LetheProcess.start(
                    [
                        "worker", "--coordinator", workers, "--keys", keys, "--name", name, "--cache-dir",
                        directory.path("cache-\(name)"), "--threads", "1",
                    ], log: directory.url.appendingPathComponent("\(name).log")))
        }
    }

    var cli: [String] { ["--coordinator", control, "--keys", keys] }

    func terminate() { daemons.forEach { $0.terminate() } }
}
