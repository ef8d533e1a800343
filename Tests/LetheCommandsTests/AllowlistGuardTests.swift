import Coordinator
import Foundation
import Jobs
import LetheTesting
import Testing
import Transport
import Wire
import ZeroMQ

@testable import LetheCommands

/// The coordinator's ZAP handlers send every refused key to the state directory's audit log.
struct AllowlistGuardTests {
    @Test func aRefusedKeyIsAudited() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let state = try StateDirectory(directory.path("state"))
        let keys = try KeyDirectory.initialize(directory.path("keys"))
        let context = try ZeroMQContext()
        let allowlist = try AllowlistGuard(context: context, directory: keys, list: .users) { state.audit($0) }
        let server = try ZeroMQTransport.server(
            context, bind: "ipc://\(directory.path("control.sock"))",
            security: .curveServer(try keys.keyPair(.coordinator)))
        let stranger = try CurveKeyPair.generate()
        let client = try ZeroMQTransport.client(
            try ZeroMQContext(), connect: server.endpoint,
            security: .curveClient(stranger, serverPublicKey: try keys.publicKey(.coordinator)))
        defer {
            client.close()
            server.close()
            allowlist.handler.stop()
        }
        client.send(Envelope(ControlRequest.jobList), to: nil)
        let deadline = Date().addingTimeInterval(30)
        var refused: [AuditEvent] = []
        while refused.isEmpty && Date() < deadline {
            try await Task.sleep(for: .milliseconds(20))
            refused = try state.auditEvents().filter { $0.action == "refused connection" }
        }
        let row = try #require(refused.first)
        #expect(row.key == stranger.publicKey)
        #expect(row.detail.contains("\"endpoint\":\"control\"") && row.detail.contains("not allowed"))
    }
}
