import Coordinator
import Foundation
import GRDB
import LetheTesting
import Testing
import Transport

/// `lethe audit-log verify|export` as real processes on a state directory a coordinator wrote with its key.
struct AuditLogEndToEndTests {
    @Test func verifyNamesTheFirstBadRowAndExportWritesEveryRowWithItsHash() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let keys = directory.path("keys")
        _ = try KeyDirectory.initialize(keys)
        let stateDir = directory.path("state")
        do {
            let state = try StateDirectory(stateDir, signingKey: try SigningKey.loadPrivate(keys))
            for job in ["j1", "j2", "j3"] { try state.audit(key: "alice", action: "submit", job: job) }
        }
        let verify = ["audit-log", "verify", "--state-dir", stateDir, "--public-key", keys + "/signing.pub"]
        let intact = try await LetheProcess.run(verify)
        #expect(intact.status == 0 && intact.standardOutput.hasPrefix("intact: 3 chained events (3 signed)"))
        let export = try await LetheProcess.run(["audit-log", "export", "--state-dir", stateDir, "--format", "jsonl"])
        let lines = export.standardOutput.split(separator: "\n")
        #expect(export.status == 0 && lines.count == 3 && lines.allSatisfy { $0.contains("\"chain_hash\":\"") })
        // The head it prints, given back later, must still be in the chain.
        let head = try #require(
            intact.standardOutput.firstMatch(of: /head (\d+:[0-9a-f]{64})/).map { String($0.1) })
        #expect(try await LetheProcess.run(verify + ["--head", head]).status == 0)
        let future = try await LetheProcess.run(verify + ["--head", "9:" + head.split(separator: ":")[1]])
        #expect(future.status == 1 && future.standardError.contains("truncated"), "\(future.standardError)")
        #expect(try await LetheProcess.run(verify + ["--head", "3"]).status == 2)

        let database = stateDir + "/state.sqlite"
        let missing = try await LetheProcess.run(["audit-log", "verify", "--state-dir", directory.path("nowhere")])
        #expect(missing.status == 2)
        let queue = try DatabaseQueue(path: database)
        try queue.inDatabase { try $0.execute(sql: "UPDATE audit SET key = 'mallory' WHERE id = 2") }
        let broken = try await LetheProcess.run(verify)
        #expect(broken.status == 1 && broken.standardError.contains("broken at audit row 2"), "\(broken.standardError)")
    }
}
