import Coordinator
import Crypto
import Foundation
import GRDB
import Testing
import Transport

/// The audit log's hash chain: intact as written, and an edited, deleted or inserted row, a foreign key or a
/// missing signature is named by its row; rows from before the chain and refusal rows are counted apart.
struct AuditChainTests {
    /// A state directory with events 1–4 (and a refusal between them), released so the test can tamper with it.
    func makeLog(signingKey: Curve25519.Signing.PrivateKey?) throws -> (directory: URL, database: String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("audit-chain-\(UUID())")
        let state = try StateDirectory(directory.path, signingKey: signingKey)
        try state.audit(key: "alice", action: "submit", job: "j1", detail: ["method": "scrub"])
        try state.audit(key: "alice", action: "cancel", job: "j1")
        state.audit(Refusal(key: "eve", endpoint: "control", reason: "malformed", message: "bad"))
        try state.audit(key: "bob", action: "submit", job: "j2", detail: ["method": "ssd"])
        try state.audit(key: "bob", action: "result", job: "j2")
        return (directory, directory.appendingPathComponent("state.sqlite").path)
    }

    func tamper(_ path: String, _ sql: String) throws {
        try DatabaseQueue(path: path).write { try $0.execute(sql: sql) }
    }

    @Test func anIntactSignedChainVerifiesAndEveryKindOfTamperingIsNamed() throws {
        let key = Curve25519.Signing.PrivateKey()
        let (directory, database) = try makeLog(signingKey: key)
        defer { try? FileManager.default.removeItem(at: directory) }
        let intact = try AuditChain.verify(databaseAt: database, publicKey: key.publicKey)
        #expect(intact.firstBad == nil && intact.chained == 4 && intact.signed == 4 && intact.refusals == 1)
        #expect(intact.headID == 5 && intact.headHash?.count == 64)
        let foreign = try AuditChain.verify(databaseAt: database, publicKey: Curve25519.Signing.PrivateKey().publicKey)
        #expect(foreign.firstBad?.id == 1 && foreign.firstBad?.reason.contains("signature") == true)

        for (sql, badRow) in [
            ("UPDATE audit SET detail = '{\"method\":\"neggrad\"}' WHERE id = 4", Int64(4)),  // edited
            ("DELETE FROM audit WHERE id = 2", 4),  // deleted: the next chained row breaks
            ("INSERT INTO audit (at, key, action, detail) VALUES (0, 'mallory', 'submit', '{}')", 6),  // inserted
        ] {
            let (copy, copyDatabase) = try makeLog(signingKey: key)
            defer { try? FileManager.default.removeItem(at: copy) }
            try tamper(copyDatabase, sql)
            let broken = try AuditChain.verify(databaseAt: copyDatabase, publicKey: key.publicKey)
            #expect(broken.firstBad?.id == badRow, "\(sql): \(String(describing: broken.firstBad))")
        }
        // A truncated tail is a shorter valid chain; the head kept from before catches it, and a wrong kept hash too.
        let head = (id: try #require(intact.headID), hash: try #require(intact.headHash))
        #expect(try AuditChain.verify(databaseAt: database, publicKey: nil, expectedHead: head).firstBad == nil)
        let (truncated, truncatedDatabase) = try makeLog(signingKey: key)
        defer { try? FileManager.default.removeItem(at: truncated) }
        try tamper(truncatedDatabase, "DELETE FROM audit WHERE id = 5")
        #expect(try AuditChain.verify(databaseAt: truncatedDatabase, publicKey: key.publicKey).firstBad == nil)
        let cut = try AuditChain.verify(databaseAt: truncatedDatabase, publicKey: key.publicKey, expectedHead: head)
        #expect(cut.firstBad?.id == 5 && cut.firstBad?.reason.contains("truncated") == true)
        let rewritten = try AuditChain.verify(
            databaseAt: database, publicKey: nil, expectedHead: (head.id, String(repeating: "0", count: 64)))
        #expect(rewritten.firstBad?.id == 5 && rewritten.firstBad?.reason.contains("rewritten") == true)
    }

    @Test func unsignedChainsAndRowsFromBeforeTheChain() throws {
        let (directory, database) = try makeLog(signingKey: nil)
        defer { try? FileManager.default.removeItem(at: directory) }
        let unsigned = try AuditChain.verify(databaseAt: database, publicKey: nil)
        #expect(unsigned.firstBad == nil && unsigned.chained == 4 && unsigned.signed == 0)
        let demanded = try AuditChain.verify(databaseAt: database, publicKey: Curve25519.Signing.PrivateKey().publicKey)
        #expect(demanded.firstBad?.reason == "it is not signed")
        // An older directory: its rows carry no hashes; the chain starts with the next event.
        try tamper(database, "UPDATE audit SET chain_hash = NULL")
        let state = try StateDirectory(directory.path)
        try state.audit(key: "carol", action: "submit", job: "j3")
        let migrated = try AuditChain.verify(databaseAt: database, publicKey: nil)
        #expect(migrated.firstBad == nil && migrated.beforeChain == 4 && migrated.chained == 1)
    }
}
