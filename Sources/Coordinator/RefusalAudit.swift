import Foundation
import Jobs
import Transport
import ZeroMQ

/// A message, request or connection the coordinator refused, as the audit log records it.
public struct Refusal: Sendable, Equatable {
    /// The authenticated key, or nil on an insecure endpoint (then `address` tells peers apart).
    public var key: String?
    public var address: String?
    /// Where it arrived: `control`, `workers`, `clients`, or a ZAP handler's list.
    public var endpoint: String
    /// What kind of refusal it was (rate limiting is per peer and reason), e.g. `malformed`, `bad result`.
    public var reason: String
    /// What was wrong, for people (cut to `RefusalLimits.messageCharacters`).
    public var message: String

    public init(key: String?, address: String? = nil, endpoint: String, reason: String, message: String) {
        self.key = key
        self.address = address
        self.endpoint = endpoint
        self.reason = reason
        self.message = message
    }

    /// A refusal of `peer`'s message: its key, or its routing id when it has none.
    public init(_ peer: Peer, endpoint: String, reason: String, message: String) {
        self.init(
            key: peer.key, address: peer.key == nil ? peer.routingID.map { String($0, radix: 16) }.joined() : nil,
            endpoint: endpoint, reason: reason, message: message)
    }

    /// Who the rate limit counts against.
    var identity: String { key ?? "insecure \(address ?? "")" }
}

/// How refusals reach the audit log (docs/DISTRIBUTED.md, "Refusals in the audit log").
public struct RefusalLimits: Sendable, Equatable {
    /// At most one row per (peer, reason) in this many seconds; the repeats in between are counted.
    public var intervalSeconds = 10.0
    /// Refusal rows kept; beyond it the oldest refusal rows are deleted (never any other audit event).
    public var maximumRows = 10_000
    /// (peer, reason) pairs tracked at once; a flood of new peers beyond it is counted under one shared peer.
    public var maximumTracked = 4_096
    /// Longest message stored.
    public var messageCharacters = 300

    public init() {}
}

/// Decides which refusals become audit rows: the first of each (peer, reason) in an interval is written with
/// the number of repeats suppressed since the previous row; `expired` hands out the counts nobody wrote yet.
final class RefusalLimiter: Sendable {
    struct Entry {
        var lastWritten: Date
        var suppressed = 0
        var last: Refusal
    }

    /// A row to write: the refusal and the repeats before it that were not written. `summary` rows only carry
    /// the count of suppressed repeats (the latest of which is `refusal`).
    struct Row {
        var refusal: Refusal
        var suppressed: Int
        var summary: Bool
    }

    private struct State {
        var limits = RefusalLimits()
        var entries: [String: Entry] = [:]
    }

    private let state = Locked(State())

    var limits: RefusalLimits {
        get { state.withLock { $0.limits } }
        set { state.withLock { $0.limits = newValue } }
    }

    /// The row to write for `refusal` now, or nil when it is counted for later.
    func admit(_ refusal: Refusal, at now: Date) -> Row? {
        state.withLock { state in
            var refusal = refusal
            refusal.message = String(refusal.message.prefix(state.limits.messageCharacters))
            var id = "\(refusal.identity)\u{0}\(refusal.reason)"
            if state.entries[id] == nil, state.entries.count >= state.limits.maximumTracked {
                state.entries = state.entries.filter { !Self.idle($0.value, now: now, limits: state.limits) }
                if state.entries.count >= state.limits.maximumTracked { id = "many peers\u{0}\(refusal.reason)" }
            }
            guard var entry = state.entries[id] else {
                state.entries[id] = Entry(lastWritten: now, last: refusal)
                return Row(refusal: refusal, suppressed: 0, summary: false)
            }
            guard now.timeIntervalSince(entry.lastWritten) >= state.limits.intervalSeconds else {
                entry.suppressed += 1
                entry.last = refusal
                state.entries[id] = entry
                return nil
            }
            state.entries[id] = Entry(lastWritten: now, last: refusal)
            return Row(refusal: refusal, suppressed: entry.suppressed, summary: false)
        }
    }

    /// Summary rows for repeats whose interval has passed (every pending one with `all`); forgets idle peers.
    func expired(at now: Date, all: Bool = false) -> [Row] {
        state.withLock { state in
            var rows: [Row] = []
            for (id, entry) in state.entries.sorted(by: { $0.value.lastWritten < $1.value.lastWritten }) {
                let due = all || now.timeIntervalSince(entry.lastWritten) >= state.limits.intervalSeconds
                guard due else { continue }
                if entry.suppressed > 0 {
                    rows.append(Row(refusal: entry.last, suppressed: entry.suppressed, summary: true))
                    state.entries[id] = Entry(lastWritten: now, last: entry.last)
                } else {
                    state.entries[id] = nil
                }
            }
            return rows
        }
    }

    private static func idle(_ entry: Entry, now: Date, limits: RefusalLimits) -> Bool {
        entry.suppressed == 0 && now.timeIntervalSince(entry.lastWritten) >= limits.intervalSeconds
    }
}
