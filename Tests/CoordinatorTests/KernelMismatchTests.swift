import Coordinator
import Foundation
import LetheTesting
import Testing
import Transport
import Wire

struct KernelMismatchTests {
    /// A worker whose BLAS kernels differ from the coordinator's is welcomed but told, with a typed error, why it
    /// gets no tasks and what to change; where mixing is allowed it is told nothing of the kind.
    @Test(arguments: [false, true]) func aWorkerWithOtherKernelsHearsWhy(allowMixed: Bool) async throws {
        let fixture = try ClusterFixture()
        let hub = InMemoryHub()
        var settings = fixture.poolSettings()
        settings.allowMixedKernels = allowMixed
        let pool = WorkerPool(transport: hub.server, blobs: fixture.blobs, settings: settings)
        pool.start()
        defer { pool.stop() }
        let worker = hub.connect()
        let replies = Collected<CoordinatorToWorker>()
        let listener = Task {
            for await received in worker.incoming {
                if let envelope = try? WireCodec.decode(received.frames, as: CoordinatorToWorker.self) {
                    replies.append(envelope.message)
                }
            }
        }
        defer { listener.cancel() }
        let hello = Hello(name: "other", kernelIdentity: "not-\(fixture.kernel)", threads: 1, softwareVersion: "x")
        worker.send(Envelope(WorkerToCoordinator.hello(hello)), to: nil)
        worker.send(Envelope(WorkerToCoordinator.ready(credit: 1)), to: nil)
        let welcomed = { replies.value.contains { if case .welcome = $0 { true } else { false } } }
        let errors = {
            replies.value.compactMap { message -> ProtocolError? in
                if case .error(let error) = message { error } else { nil }
            }
        }
        // The replies reach the listener after the pool has counted the credit: wait for what is expected.
        try await eventually { pool.workerList.first?.credit == 1 && welcomed() && (allowMixed || !errors().isEmpty) }
        #expect(pool.workerList.first?.kernelMatches == false)
        if allowMixed {
            #expect(errors().isEmpty)
        } else {
            #expect(errors().map(\.code) == [.kernelMismatch])
            #expect(errors().first?.message.contains("--allow-mixed-kernels") == true)
        }
    }
}
