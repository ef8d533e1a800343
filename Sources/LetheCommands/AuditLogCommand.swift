import ArgumentParser
import Coordinator
import Foundation
import GRDB
import Jobs
import Transport

/// `lethe audit-log verify|export`: checks the coordinator's hash-chained audit log (`AuditChain`) and writes it
/// out with its hashes. Both read the state database read-only, so they work beside a running coordinator.
struct AuditLogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit-log", abstract: "Verify or export the coordinator's tamper-evident audit log.",
        subcommands: [Verify.self, Export.self])

    static func database(_ stateDir: String) throws -> String {
        let path = URL(fileURLWithPath: stateDir).appendingPathComponent("state.sqlite").path
        guard FileManager.default.fileExists(atPath: path) else {
            throw ValidationError("\(stateDir) holds no state.sqlite (not a coordinator's state directory)")
        }
        return path
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Check every chained audit row's hash (and signature, with --public-key); name the first bad row. Exit 0 intact, 1 broken."
        )
        @Option(help: "The coordinator's state directory.") var stateDir: String
        @Option(
            help:
                "The coordinator's public signing key (signing.pub of its key directory): every row must be signed by it."
        )
        var publicKey: String?
        @Option(
            help:
                "A head printed by an earlier verify (ID:HASH), kept elsewhere: the chain must still hold it (catches a truncated tail or a rewritten chain)."
        )
        var head: String?

        func validate() throws { _ = try expectedHead }

        var expectedHead: (id: Int64, hash: String)? {
            get throws {
                guard let head else { return nil }
                let parts = head.split(separator: ":", maxSplits: 1).map(String.init)
                guard parts.count == 2, let id = Int64(parts[0]), id > 0, parts[1].count == 64,
                    parts[1].allSatisfy(\.isHexDigit)
                else { throw ValidationError("--head takes ID:HASH as verify prints it (got '\(head)')") }
                return (id, parts[1].lowercased())
            }
        }

        func run() throws {
            let result = try AuditChain.verify(
                databaseAt: try AuditLogCommand.database(stateDir), publicKey: try publicKey.map(SigningKey.loadPublic),
                expectedHead: try expectedHead)
            if let bad = result.firstBad {
                throw AuditLogBroken(description: "broken at audit row \(bad.id): \(bad.reason)")
            }
            var summary = "intact: \(result.chained) chained events (\(result.signed) signed)"
            if let id = result.headID, let hash = result.headHash {
                summary += "; head \(id):\(hash) (keep it elsewhere; --head \(id):\(hash) later detects a truncation)"
            }
            if result.beforeChain > 0 {
                summary += "; \(result.beforeChain) events from before the chain (not covered)"
            }
            if result.refusals > 0 { summary += "; \(result.refusals) refusal rows (rate-limited, not chained)" }
            print(summary)
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write every audit row with its chain hash and signature, one JSON object per line.")
        @Option(help: "The coordinator's state directory.") var stateDir: String
        @Option(help: "Output format (jsonl).") var format = "jsonl"

        func validate() throws {
            guard format == "jsonl" else { throw ValidationError("--format takes jsonl") }
        }

        func run() throws {
            var configuration = Configuration()
            configuration.readonly = true
            let database = try DatabaseQueue(path: try AuditLogCommand.database(stateDir), configuration: configuration)
            try database.read { db in
                let rows = try Row.fetchCursor(db, sql: "SELECT * FROM audit ORDER BY id")
                while let row = try rows.next() {
                    let line = CanonicalJSON.object([
                        "id": .integer(row["id"]), "at": .number(row["at"]), "key": .string(row["key"]),
                        "action": .string(row["action"]),
                        "job": (row["job"] as String?).map(CanonicalJSON.string) ?? .null,
                        "detail": .string(row["detail"]), "refusal": .bool(row["refusal"]),
                        "chain_hash": (row["chain_hash"] as String?).map(CanonicalJSON.string) ?? .null,
                        "chain_signature": (row["chain_signature"] as String?).map(CanonicalJSON.string) ?? .null,
                    ])
                    print(line.text)
                }
            }
        }
    }
}

/// The audit chain does not hold (exit 1).
struct AuditLogBroken: Error, CustomStringConvertible {
    let description: String
}
