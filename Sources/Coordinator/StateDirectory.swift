import Crypto
import Foundation
import GRDB
import Jobs
import Transport
import Wire

/// The coordinator's durable state (DESIGN §6): `state.sqlite` (jobs, workers, blobs, audit events) and a
/// content-addressed blob store under `blobs/`. Every change is one SQLite transaction; blobs are written
/// atomically, so a crash at any moment leaves a consistent directory. One process at a time holds it.
public final class StateDirectory: Sendable {
    public let url: URL
    public let blobs: BlobStore
    let database: DatabaseQueue
    let refusalLimiter = RefusalLimiter()
    private let lock: StateDirectoryLock
    /// The raw Ed25519 key that signs each audit event's chain hash (`AuditChain`); nil: hashed, not signed.
    let signingKey: Data?

    /// Opens (creating if needed) the state directory at `path`, locked for this process until it is released;
    /// throws `StateDirectoryError.locked` while another process holds it.
    public init(_ path: String, signingKey: Curve25519.Signing.PrivateKey? = nil) throws {
        self.signingKey = signingKey?.rawRepresentation
        url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        lock = try StateDirectoryLock(directory: url)
        blobs = try BlobStore(directory: url.appendingPathComponent("blobs"))
        database = try DatabaseQueue(path: url.appendingPathComponent("state.sqlite").path)
        try Self.migrator.migrate(database)
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.create(table: "job") { table in
                table.autoIncrementedPrimaryKey("seq")
                table.column("id", .text).notNull().unique()
                table.column("spec", .text).notNull()
                table.column("state", .text).notNull()
                table.column("submitted_by", .text).notNull()
                table.column("submitted_at", .double).notNull()
                table.column("updated_at", .double).notNull()
                table.column("message", .text).notNull().defaults(to: "")
                table.column("steps_done", .integer).notNull().defaults(to: 0)
                table.column("steps_total", .integer).notNull().defaults(to: 0)
                table.column("outputs", .text)
            }
            try db.create(table: "worker") { table in
                table.primaryKey("key", .text)
                table.column("name", .text).notNull()
                table.column("kernel", .text).notNull()
                table.column("first_seen", .double).notNull()
                table.column("last_seen", .double).notNull()
            }
            try db.create(table: "blob") { table in
                table.primaryKey("sha256", .text)
                table.column("kind", .text).notNull()
                table.column("bytes", .integer).notNull()
                table.column("stored_at", .double).notNull()
            }
            try db.create(table: "audit") { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("at", .double).notNull()
                table.column("key", .text).notNull()
                table.column("action", .text).notNull()
                table.column("job", .text)
                table.column("detail", .text).notNull()
            }
        }
        migrator.registerMigration("v2: job snapshots") { db in
            try db.alter(table: "job") { table in table.add(column: "snapshot", .text) }
        }
        migrator.registerMigration("v3: audited refusals") { db in
            try db.alter(table: "audit") { table in
                table.add(column: "refusal", .boolean).notNull().defaults(to: false)
            }
            try db.execute(sql: "UPDATE audit SET refusal = 1 WHERE action LIKE 'refused %'")
            try db.create(index: "audit_refusal", on: "audit", columns: ["refusal", "id"])
        }
        migrator.registerMigration("v4: audit hash chain") { db in
            // The chain starts with the first event after this migration (`AuditChain`).
            try db.alter(table: "audit") { table in
                table.add(column: "chain_hash", .text)
                table.add(column: "chain_signature", .text)
            }
        }
        return migrator
    }

    // MARK: jobs

    /// Queues a job and returns its id ("job-<n>").
    public func submit(_ spec: JobSpec, by key: String) throws -> String {
        let now = Date().timeIntervalSince1970
        let json = String(decoding: try JSONEncoder().encode(spec), as: UTF8.self)
        return try database.write { db in
            let next = (try Int.fetchOne(db, sql: "SELECT IFNULL(MAX(seq), 0) + 1 FROM job")) ?? 1
            let id = "job-\(next)"
            try db.execute(
                sql: """
                    INSERT INTO job (seq, id, spec, state, submitted_by, submitted_at, updated_at)
                    VALUES (?, ?, ?, 'queued', ?, ?, ?)
                    """, arguments: [next, id, json, key, now, now])
            return id
        }
    }

    public func job(_ id: String) throws -> StoredJob? {
        try database.read { db in try Row.fetchOne(db, sql: "SELECT * FROM job WHERE id = ?", arguments: [id]) }
            .map(StoredJob.init)
    }

    public func jobs() throws -> [StoredJob] {
        try database.read { db in try Row.fetchAll(db, sql: "SELECT * FROM job ORDER BY seq") }.map(StoredJob.init)
    }

    /// The oldest queued job, marked running.
    public func startNextJob() throws -> StoredJob? {
        try database.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM job WHERE state = 'queued' ORDER BY seq LIMIT 1")
            else { return nil }
            var job = try StoredJob(row)
            job.state = .running
            try db.execute(
                sql: "UPDATE job SET state = ?, updated_at = ? WHERE id = ?",
                arguments: [JobState.running.rawValue, Date().timeIntervalSince1970, job.id])
            return job
        }
    }

    public func update(
        _ id: String, state: JobState? = nil, message: String? = nil, stepsDone: Int? = nil, stepsTotal: Int? = nil,
        outputs: JobOutputs? = nil
    ) throws {
        let outputsJSON = try outputs.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
        try database.write { db in
            try db.execute(
                sql: """
                    UPDATE job SET state = IFNULL(?, state), message = IFNULL(?, message),
                    steps_done = IFNULL(?, steps_done), steps_total = IFNULL(?, steps_total),
                    outputs = IFNULL(?, outputs), updated_at = ? WHERE id = ?
                    """,
                arguments: [
                    state?.rawValue, message, stepsDone, stepsTotal, outputsJSON, Date().timeIntervalSince1970, id,
                ])
        }
    }

    /// Persists a running job's latest snapshot (replacing the previous one, whose blob is deleted).
    public func saveSnapshot(_ data: Data, of job: String) throws {
        let sha256 = try blobs.put(data)
        let previous = try database.write { db in
            let previous = try String.fetchOne(db, sql: "SELECT snapshot FROM job WHERE id = ?", arguments: [job])
            try db.execute(sql: "UPDATE job SET snapshot = ? WHERE id = ?", arguments: [sha256, job])
            return previous
        }
        if let previous, previous != sha256 { blobs.remove(previous) }
    }

    /// The latest snapshot of a job, if one was persisted.
    public func snapshot(of job: String) throws -> Data? {
        let sha256 = try database.read { db in
            try String.fetchOne(db, sql: "SELECT snapshot FROM job WHERE id = ?", arguments: [job])
        }
        return try sha256.map { try blobs.data($0) }
    }

    /// Drops a finished job's snapshot.
    public func clearSnapshot(of job: String) throws {
        let previous = try database.write { db in
            let previous = try String.fetchOne(db, sql: "SELECT snapshot FROM job WHERE id = ?", arguments: [job])
            try db.execute(sql: "UPDATE job SET snapshot = NULL WHERE id = ?", arguments: [job])
            return previous
        }
        if let previous { blobs.remove(previous) }
    }

    /// After a restart: jobs that were running go back to the queue (they resume from their snapshots).
    @discardableResult
    public func requeueRunningJobs() throws -> [String] {
        try database.write { db in
            let ids = try String.fetchAll(db, sql: "SELECT id FROM job WHERE state = 'running' ORDER BY seq")
            try db.execute(
                sql:
                    "UPDATE job SET state = 'queued', message = 'resumed after a coordinator restart' WHERE state = 'running'"
            )
            return ids
        }
    }

    // MARK: workers, blobs, audit

    public func recordWorker(key: String, name: String, kernel: String) throws {
        let now = Date().timeIntervalSince1970
        try database.write { db in
            try db.execute(
                sql: """
                    INSERT INTO worker (key, name, kernel, first_seen, last_seen) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT(key) DO UPDATE SET name = excluded.name, kernel = excluded.kernel, last_seen = excluded.last_seen
                    """, arguments: [key, name, kernel, now, now])
        }
    }

    public func recordBlob(_ sha256: String, kind: String, bytes: Int) throws {
        try database.write { db in
            try db.execute(
                sql: "INSERT OR IGNORE INTO blob (sha256, kind, bytes, stored_at) VALUES (?, ?, ?, ?)",
                arguments: [sha256, kind, bytes, Date().timeIntervalSince1970])
        }
    }

    /// Appends an audit event: who (authenticated key), what, on which job, with details (JSON).
    public func audit(key: String, action: String, job: String? = nil, detail: [String: String] = [:]) throws {
        let json = String(decoding: try JSONEncoder.sortedKeys.encode(detail), as: UTF8.self)
        try database.write { db in
            try AuditChain.append(
                db, at: Date().timeIntervalSince1970, key: key, action: action, job: job, detail: json,
                signingKey: try signingKey.map(Curve25519.Signing.PrivateKey.init(rawRepresentation:)))
        }
    }

    public func auditEvents(job: String? = nil) throws -> [AuditEvent] {
        try database.read { db in
            let rows =
                if let job {
                    try Row.fetchAll(db, sql: "SELECT * FROM audit WHERE job = ? ORDER BY id", arguments: [job])
                } else {
                    try Row.fetchAll(db, sql: "SELECT * FROM audit ORDER BY id")
                }
            return rows.map {
                AuditEvent(at: $0["at"], key: $0["key"], action: $0["action"], job: $0["job"], detail: $0["detail"])
            }
        }
    }
}

public struct AuditEvent: Sendable, Equatable, Codable {
    public var at: Double
    public var key: String
    public var action: String
    public var job: String?
    public var detail: String
}

/// A job as stored.
public struct StoredJob: Sendable, Equatable {
    public var id: String
    public var spec: JobSpec
    public var state: JobState
    public var submittedBy: String
    public var submittedAt: Double
    public var updatedAt: Double
    public var message: String
    public var stepsDone: Int
    public var stepsTotal: Int
    public var outputs: JobOutputs?

    init(_ row: Row) throws {
        id = row["id"]
        spec = try JSONDecoder().decode(JobSpec.self, from: Data((row["spec"] as String).utf8))
        guard let state = JobState(rawValue: row["state"]) else {
            throw StateDirectoryError.corrupt(
                "job \(row["id"] as String) has an unknown state '\(row["state"] as String)'")
        }
        self.state = state
        submittedBy = row["submitted_by"]
        submittedAt = row["submitted_at"]
        updatedAt = row["updated_at"]
        message = row["message"]
        stepsDone = row["steps_done"]
        stepsTotal = row["steps_total"]
        outputs = try (row["outputs"] as String?).map { try JSONDecoder().decode(JobOutputs.self, from: Data($0.utf8)) }
    }
}

extension JSONEncoder {
    static var sortedKeys: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }
}
