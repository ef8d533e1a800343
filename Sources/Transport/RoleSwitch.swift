import Foundation
import Wire
import ZeroMQ

/// Splits the coordinator's worker endpoint between workers and federated clients, which both connect to it:
/// a peer's messages go to the side its last hello named (workers until it says hello). Only small messages
/// (no tensor frames) are looked into, so results and updates are decoded once, by their receiver.
public final class RoleSwitch: Sendable {
    public let workers: Transport
    public let clients: Transport
    private let server: Transport
    private let listener: Task<Void, Never>

    public init(_ server: Transport) {
        self.server = server
        let workers = Side(server: server)
        let clients = Side(server: server)
        self.workers = workers
        self.clients = clients
        let roles = Locked([Peer: Hello.Role]())
        listener = Task {
            for await received in server.incoming {
                // Workers and clients say the same hello; its role tells them apart.
                if received.frames.count <= 2,
                    case .hello(let hello)? = try? WireCodec.decode(received.frames, as: WorkerToCoordinator.self)
                        .message
                {
                    roles.withLock { $0[received.peer] = hello.role }
                }
                let role = roles.withLock { $0[received.peer] } ?? .worker
                (role == .client ? clients : workers).deliver(received)
            }
            workers.finish()
            clients.finish()
        }
    }

    public func close() {
        listener.cancel()
        server.close()
    }

    /// One side's view: sends go straight to the server socket; receives are what the switch routed here.
    private final class Side: Transport, Sendable {
        let server: Transport
        let incoming: AsyncStream<Received>
        private let continuation: AsyncStream<Received>.Continuation

        init(server: Transport) {
            self.server = server
            (incoming, continuation) = AsyncStream.makeStream()
        }

        func send(_ frames: [FramePayload], to peer: Peer?) { server.send(frames, to: peer) }
        func deliver(_ received: Received) { continuation.yield(received) }
        func finish() { continuation.finish() }
        func close() { finish() }
    }
}
