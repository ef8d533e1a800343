import Coordinator
import Foundation
import Jobs
import Testing
import Transport
import Wire

struct UploadTests {
    /// Two users upload the same 3.5-chunk blob at the same moment: neither is refused, each carries on from what
    /// the other stored, and the coordinator keeps one intact copy.
    @Test func concurrentUploadsOfTheSameBytesBothSucceed() async throws {
        let fixture = try ClusterFixture()
        let (coordinator, state, controlHub) = try fixture.joblessCoordinator()
        defer { coordinator.stop() }
        let data = Data((0..<(WireProtocol.Limits.blobChunkBytes * 7 / 2)).map { UInt8(truncatingIfNeeded: $0 * 7) })
        // A generous timeout: the parallel suite can starve the in-memory coordinator's tasks for minutes.
        let users = ["ada", "bob"].map { ControlClient(transport: controlHub.connect(key: $0), timeoutSeconds: 300) }
        defer { users.forEach { $0.close() } }
        async let first = users[0].upload(data, kind: "dataset")
        async let second = users[1].upload(data, kind: "dataset")
        let addresses = try await [first, second]
        #expect(addresses == [BlobStore.sha256(data), BlobStore.sha256(data)])
        #expect(try state.blobs.data(BlobStore.sha256(data)) == data)
    }
}
