import Coordinator
import Foundation
import Jobs
import LetheTesting
import Testing
import Transport
import Wire
import ZeroMQ

struct SecureTransportTests {
    /// CURVE over real TCP on loopback: the allowlisted worker computes the job (same bits as local, results
    /// attributed to its key); a worker with a key not on the allowlist never gets in.
    @Test func onlyAllowlistedWorkersJoinAndResultsCarryTheirKey() async throws {
        let fixture = try ClusterFixture()
        let keys = try KeyDirectory.initialize(fixture.directory.appendingPathComponent("keys").path)
        let context = try ZeroMQContext()
        let zap = try ZAPHandler(context: context)
        for key in try keys.allowed(.workers) { try zap.allow(key) }
        let server = try ZeroMQTransport.server(
            context, bind: "tcp://127.0.0.1:*", security: .curveServer(try keys.keyPair(.coordinator)))
        let pool = WorkerPool(transport: server, blobs: fixture.blobs, settings: fixture.poolSettings())
        pool.start()
        let clientContext = try ZeroMQContext()
        let coordinatorKey = try keys.publicKey(.coordinator)
        let stranger = try fixture.worker(
            ZeroMQTransport.client(
                clientContext, connect: server.endpoint,
                security: .curveClient(try CurveKeyPair.generate(), serverPublicKey: coordinatorKey)), name: "stranger")
        let trusted = try fixture.worker(
            ZeroMQTransport.client(
                clientContext, connect: server.endpoint,
                security: .curveClient(try keys.keyPair(.worker), serverPublicKey: coordinatorKey)), name: "trusted")
        let runs = [Task { await stranger.run() }, Task { await trusted.run() }]
        defer {
            runs.forEach { $0.cancel() }
            pool.stop()
            server.close()
        }
        let remote = try await DedicatedThread.run(name: "job") {
            try fixture.run(fixture.remoteExecutor(pool, shards: 2))
        }
        #expect(remote == (try fixture.localHash(shards: 2)))
        let workers = pool.workerList
        #expect(workers.map(\.name) == ["trusted"])
        #expect(workers.first?.peer.key == (try keys.publicKey(.worker)))
        #expect(stranger.tasksDone == 0)
        #expect(zap.refusalCount > 0)
    }

    @Test func keyDirectoriesAddAndRevokeKeys() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let keys = try KeyDirectory.initialize(directory.path("keys"))
        #expect(throws: KeyError.self) { try KeyDirectory.initialize(directory.path("keys")) }
        let worker = try keys.publicKey(.worker)
        #expect(try keys.allowed(.workers) == [worker])
        #expect(try keys.allowed(.users) == [try keys.publicKey(.user)])
        var other = try CurveKeyPair.generate().publicKey
        while !other.contains("#") { other = try CurveKeyPair.generate().publicKey }  // '#' is a Z85 digit
        try keys.add(other, to: .workers, comment: "gpu box")
        try keys.add(other, to: .workers)
        #expect(try keys.allowed(.workers) == [worker, other])
        #expect(throws: KeyError.self) { try keys.add("not a key", to: .users) }
        #expect(try keys.revoke(worker))
        #expect(try keys.allowed(.workers) == [other])
        #expect(try !keys.revoke(worker))
        let attributes = try FileManager.default.attributesOfItem(atPath: directory.path("keys/worker.secret"))
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
    }
}
