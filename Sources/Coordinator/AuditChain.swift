import Crypto
import Foundation
import GRDB
import Jobs
import NN

/// The audit log as a hash chain: each event row carries sha256(the previous event's chain hash ‖ the row's
/// canonical JSON) and, when the coordinator has a signing key (`signing.key` in its key directory), an Ed25519
/// signature of that hash. An edited, inserted or deleted row breaks the chain at the first row after it, and
/// without the key nobody can re-chain the rows after an edit. Two limits, by design: refusal rows are not
/// chained (they are rate-limited and the oldest are pruned, docs/DISTRIBUTED.md), and rows written before the
/// chain existed (an older state directory) are not covered: the chain starts at the migration. A truncated
/// tail leaves a valid shorter chain; compare the head (`lethe audit-log verify` prints it) with one kept
/// elsewhere to detect that.
public enum AuditChain {
    /// The "previous hash" of the first chained row.
    public static let genesis = sha256Hex(Array("lethe-audit-chain-v1".utf8))

    /// A row's chain hash.
    static func hash(previous: String, id: Int64, at: Double, key: String, action: String, job: String?, detail: String)
        -> String
    {
        let row = CanonicalJSON.object([
            "id": .integer(id), "at": .number(at), "key": .string(key), "action": .string(action),
            "job": job.map(CanonicalJSON.string) ?? .null, "detail": .string(detail),
        ])
        return sha256Hex(Array(previous.utf8) + [0x0A] + row.bytes)
    }

    /// Appends an event to the chain inside the caller's transaction.
    static func append(
        _ db: Database, at: Double, key: String, action: String, job: String?, detail: String,
        signingKey: Curve25519.Signing.PrivateKey?
    ) throws {
        let previous =
            try String.fetchOne(
                db, sql: "SELECT chain_hash FROM audit WHERE chain_hash IS NOT NULL ORDER BY id DESC LIMIT 1")
            ?? genesis
        try db.execute(
            sql: "INSERT INTO audit (at, key, action, job, detail) VALUES (?, ?, ?, ?, ?)",
            arguments: [at, key, action, job, detail])
        let id = db.lastInsertedRowID
        let hash = hash(previous: previous, id: id, at: at, key: key, action: action, job: job, detail: detail)
        let signature = try signingKey.map { Data(try $0.signature(for: Array(hash.utf8))).base64EncodedString() }
        try db.execute(
            sql: "UPDATE audit SET chain_hash = ?, chain_signature = ? WHERE id = ?",
            arguments: [hash, signature, id])
    }

    /// What `verify` found.
    public struct Verification: Sendable, Equatable {
        /// Chained rows checked, refusal rows skipped, rows from before the chain.
        public var chained = 0
        public var refusals = 0
        public var beforeChain = 0
        public var signed = 0
        /// The last chained row's id and hash (keep it elsewhere to detect a truncated tail later).
        public var headID: Int64?
        public var headHash: String?
        /// The first bad row and why, nil when the chain holds.
        public var firstBad: (id: Int64, reason: String)?

        public static func == (a: Verification, b: Verification) -> Bool {
            a.chained == b.chained && a.headHash == b.headHash && a.firstBad?.id == b.firstBad?.id
        }
    }

    /// Walks the chain of the state database at `path` (read-only: a running coordinator keeps it). With
    /// `publicKey`, every chained row must carry a valid signature by it. With `expectedHead` (a head printed
    /// earlier and kept elsewhere), the chain must still hold that row with that hash: a truncated tail or a chain
    /// rewritten from the start, which verify as a shorter or different valid chain, fail.
    public static func verify(
        databaseAt path: String, publicKey: Curve25519.Signing.PublicKey?,
        expectedHead: (id: Int64, hash: String)? = nil
    ) throws -> Verification {
        var configuration = Configuration()
        configuration.readonly = true
        let database = try DatabaseQueue(path: path, configuration: configuration)
        return try database.read { db in
            var result = Verification()
            var previous = genesis
            let rows = try Row.fetchCursor(db, sql: "SELECT * FROM audit ORDER BY id")
            while let row = try rows.next() {
                let id: Int64 = row["id"]
                let chainHash: String? = row["chain_hash"]
                if (row["refusal"] as Bool?) == true {
                    result.refusals += 1
                    continue
                }
                guard let chainHash else {
                    if result.chained == 0 {
                        result.beforeChain += 1
                        continue
                    }
                    result.firstBad = (id, "an event without a chain hash after the chain started (inserted)")
                    return result
                }
                let expected = hash(
                    previous: previous, id: id, at: row["at"], key: row["key"], action: row["action"],
                    job: row["job"], detail: row["detail"])
                guard expected == chainHash else {
                    result.firstBad = (
                        id,
                        "its hash does not follow from the row before it and its own content (this row was edited, or one before it was deleted or inserted)"
                    )
                    return result
                }
                if let signature = (row["chain_signature"] as String?).flatMap({ Data(base64Encoded: $0) }) {
                    if let publicKey, !publicKey.isValidSignature(signature, for: Array(chainHash.utf8)) {
                        result.firstBad = (id, "its signature is not the given key's")
                        return result
                    }
                    result.signed += 1
                } else if publicKey != nil {
                    result.firstBad = (id, "it is not signed")
                    return result
                }
                if let expectedHead, expectedHead.id == id, expectedHead.hash != chainHash {
                    result.firstBad = (
                        id, "its hash is not the head \(expectedHead.hash) kept for it: the chain was rewritten"
                    )
                    return result
                }
                previous = chainHash
                result.chained += 1
                (result.headID, result.headHash) = (id, chainHash)
            }
            if let expectedHead, (result.headID ?? 0) < expectedHead.id {
                result.firstBad = (
                    expectedHead.id,
                    "the chain ends at row \(result.headID.map(String.init) ?? "none") before the kept head: the log was truncated"
                )
            }
            return result
        }
    }
}
