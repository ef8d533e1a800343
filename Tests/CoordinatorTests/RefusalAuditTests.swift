import Coordinator
import Foundation
import Jobs
import LetheTesting
import Testing
import Transport
import Wire

/// Refusals reach the audit log with the peer's key and the reason, rate-limited per (peer, reason) and bounded,
/// and pruning them never touches other audit events.
struct RefusalAuditTests {
    /// A coordinator over the in-memory transport, with an empty state directory.
    final class Bed: @unchecked Sendable {
        let fixture: ClusterFixture
        let state: StateDirectory
        let control = InMemoryHub()
        let workers = InMemoryHub()
        let coordinator: Coordinator

        init(limits: RefusalLimits = RefusalLimits()) throws {
            fixture = try ClusterFixture()
            state = try StateDirectory(fixture.directory.appendingPathComponent("state").path)
            state.refusalLimits = limits
            coordinator = Coordinator(
                state: state, workers: workers.server, control: control.server, settings: fixture.poolSettings()
            ) { job, _ in throw ProtocolError(.badRequest, "\(job.id): no jobs in this test") }
            try coordinator.start()
        }

        func refusals() throws -> [AuditEvent] { try state.auditEvents().filter { $0.action.hasPrefix("refused") } }
    }

    /// The garbage a hostile peer sends: random bytes, a wrong version, messages the endpoint does not take and
    /// requests for jobs that do not exist.
    static func garbage(_ index: Int) -> [FramePayload] {
        switch index % 4 {
        case 0: return [FramePayload((0..<(index % 37 + 1)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ index) })]
        case 1:
            var frames = WireCodec.encode(Envelope(WorkerToCoordinator.heartbeat)).map(\.array)
            frames[0] = Array("lethe/9".utf8)
            return frames.map { FramePayload($0) }
        case 2: return WireCodec.encode(Envelope(WorkerToCoordinator.ready(credit: 1), requestID: UInt64(index)))
        default:
            return WireCodec.encode(Envelope(ControlRequest.jobQuery(id: "job-\(index)"), requestID: UInt64(index)))
        }
    }

    /// Sends `count` garbage messages from `peer` and waits for the refusal of each.
    static func flood(_ peer: InMemoryTransport, count: Int, offset: Int = 0) async throws {
        let replies = Collected<Int>()
        let listener = Task { for await _ in peer.incoming { replies.append(1) } }
        defer { listener.cancel() }
        for index in 0..<count { peer.send(garbage(index + offset), to: nil) }
        try await eventually { replies.count >= count }
        #expect(replies.count == count)
    }

    static func detail(_ event: AuditEvent) throws -> [String: String] {
        try JSONDecoder().decode([String: String].self, from: Data(event.detail.utf8))
    }

    @Test func aFloodOfGarbageFromOnePeerLeavesAFewRowsNamingItsKeyAndReason() async throws {
        let bed = try Bed()
        try await Self.flood(bed.control.connect(key: "mallory-control-key"), count: 300)
        // Hello-less and malformed messages on the worker endpoint are audited too.
        try await Self.flood(bed.workers.connect(key: "eve-worker-key"), count: 120)
        let rows = try bed.refusals()
        #expect(rows.count <= 10, "\(rows.map(\.action))")
        let control = rows.filter { $0.key == "mallory-control-key" }
        let workers = rows.filter { $0.key == "eve-worker-key" }
        #expect(control.count + workers.count == rows.count)
        #expect(Set(control.map(\.action)).isSuperset(of: ["refused malformed", "refused ready", "refused job query"]))
        #expect(Set(workers.map(\.action)).isSuperset(of: ["refused malformed", "refused unregistered"]))
        for row in rows {
            let detail = try Self.detail(row)
            #expect(detail["endpoint"] == (row.key == "eve-worker-key" ? "workers" : "control"))
            #expect(row.action == "refused \(detail["reason"] ?? "?")" && !(detail["error"] ?? "").isEmpty)
        }

        // Stopping writes what was only counted: every refusal is accounted for.
        bed.coordinator.stop()
        let all = try bed.refusals()
        func total(_ key: String) throws -> Int {
            try all.filter { $0.key == key }.reduce(0) { sum, row in
                let detail = try Self.detail(row)
                return sum + (detail["summary"] == nil ? 1 : 0) + (Int(detail["suppressed"] ?? "0") ?? 0)
            }
        }
        #expect(try total("mallory-control-key") == 300)
        #expect(try total("eve-worker-key") == 120)
        #expect(all.count <= 20)
    }

    @Test func repeatsAfterTheIntervalGetANewRowCarryingTheSuppressedCount() throws {
        let bed = try Bed()
        bed.coordinator.stop()
        let refusal = Refusal(key: "k", endpoint: "control", reason: "malformed", message: "bad")
        let start = Date()
        for second in 0..<5 { bed.state.audit(refusal, at: start.addingTimeInterval(Double(second))) }
        bed.state.audit(refusal, at: start.addingTimeInterval(12))
        let rows = try bed.refusals()
        #expect(rows.count == 2)
        #expect(try Self.detail(rows[0])["suppressed"] == nil)
        #expect(try Self.detail(rows[1])["suppressed"] == "4")
        // Quiet afterwards: the periodic flush writes a summary of repeats nobody wrote yet.
        bed.state.audit(refusal, at: start.addingTimeInterval(13))
        bed.state.flushRefusals(at: start.addingTimeInterval(30))
        let summary = try #require(try bed.refusals().last)
        #expect(try Self.detail(summary)["summary"] == "true" && (try Self.detail(summary)["suppressed"]) == "1")
    }

    @Test func refusalRowsAreCappedAndOtherEventsSurviveThePruning() async throws {
        var limits = RefusalLimits()
        limits.maximumRows = 5
        let bed = try Bed(limits: limits)
        defer { bed.coordinator.stop() }
        try bed.state.audit(key: "ada", action: "submit", job: "job-1")
        try bed.state.audit(key: "ada", action: "job succeeded", job: "job-1")
        for index in 0..<20 {
            try await Self.flood(bed.control.connect(key: "peer-\(index)"), count: 1)
        }
        try bed.state.audit(key: "ada", action: "cancel", job: "job-2")
        let refusals = try bed.refusals()
        #expect(refusals.map(\.key) == (15..<20).map { "peer-\($0)" })
        let others = try bed.state.auditEvents().filter { !$0.action.hasPrefix("refused") }
        #expect(others.map(\.action) == ["submit", "job succeeded", "cancel"])
    }
}
