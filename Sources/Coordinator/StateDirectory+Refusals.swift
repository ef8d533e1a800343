import Foundation
import GRDB
import Jobs
import Transport

/// Refusals in the audit log, rate-limited and bounded (docs/DISTRIBUTED.md, "Refusals in the audit log"):
/// - the first refusal of a (peer, reason) pair is written at once; repeats within `intervalSeconds` are only
///   counted, and the count goes into the pair's next row as `suppressed` (or into a `summary` row once the
///   interval has passed without a new one, and on `flushRefusals(all: true)` when the coordinator stops);
/// - so the refusals of a pair are its rows that are not summaries plus the sum of their `suppressed`;
/// - at most `maximumRows` refusal rows are kept: the oldest refusal rows go first, other events never do.
extension StateDirectory {
    public var refusalLimits: RefusalLimits {
        get { refusalLimiter.limits }
        set { refusalLimiter.limits = newValue }
    }

    /// Records a refusal (or counts it for a later row). Never throws: a refusal must not fail its caller.
    public func audit(_ refusal: Refusal, at now: Date = Date()) {
        let row = refusalLimiter.admit(refusal, at: now)
        write((row.map { [$0] } ?? []) + refusalLimiter.expired(at: now), at: now)
    }

    /// Writes the repeats counted but not yet written: those whose interval has passed, or all of them.
    public func flushRefusals(all: Bool = false, at now: Date = Date()) {
        write(refusalLimiter.expired(at: now, all: all), at: now)
    }

    private func write(_ rows: [RefusalLimiter.Row], at now: Date) {
        guard !rows.isEmpty else { return }
        let limit = max(refusalLimiter.limits.maximumRows, 1)
        try? database.write { db in
            for row in rows {
                let refusal = row.refusal
                var detail = ["endpoint": refusal.endpoint, "reason": refusal.reason, "error": refusal.message]
                if let address = refusal.address { detail["address"] = address }
                if row.suppressed > 0 { detail["suppressed"] = String(row.suppressed) }
                if row.summary { detail["summary"] = "true" }
                let json = String(decoding: try JSONEncoder.sortedKeys.encode(detail), as: UTF8.self)
                try db.execute(
                    sql: "INSERT INTO audit (at, key, action, job, detail, refusal) VALUES (?, ?, ?, NULL, ?, 1)",
                    arguments: [
                        now.timeIntervalSince1970, refusal.key ?? "insecure", "refused \(refusal.reason)", json,
                    ])
            }
            try db.execute(
                sql: """
                    DELETE FROM audit WHERE refusal = 1 AND id <= (
                        SELECT id FROM audit WHERE refusal = 1 ORDER BY id DESC LIMIT 1 OFFSET ?)
                    """, arguments: [limit])
        }
    }
}
