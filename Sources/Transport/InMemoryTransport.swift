import Foundation
import Wire

/// A transport without sockets, for tests of the daemons' logic (DESIGN §1): one server end and any number of
/// client ends, delivering frames in order. Dropping a client (`close`) loses whatever it would have sent.
public final class InMemoryHub: @unchecked Sendable {
    private let lock = NSLock()
    private var clients: [[UInt8]: InMemoryTransport] = [:]
    private var nextID: UInt8 = 1
    public let server: InMemoryTransport

    public init() {
        server = InMemoryTransport(peer: nil)
        server.hub = self
    }

    /// A new client end, authenticated as `key`.
    public func connect(key: String? = nil) -> InMemoryTransport {
        lock.withLock {
            let peer = Peer(routingID: [nextID], key: key)
            nextID &+= 1
            let client = InMemoryTransport(peer: peer)
            client.hub = self
            clients[peer.routingID] = client
            return client
        }
    }

    func route(_ frames: [[UInt8]], from sender: InMemoryTransport, to peer: Peer?) {
        if let own = sender.peer {
            server.deliver(Received(peer: own, frames: frames))
        } else if let peer, let client = lock.withLock({ clients[peer.routingID] }) {
            client.deliver(Received(peer: Peer(routingID: [], key: nil), frames: frames))
        }
    }

    func remove(_ client: InMemoryTransport) {
        _ = lock.withLock { client.peer.map { clients.removeValue(forKey: $0.routingID) } }
    }
}

public final class InMemoryTransport: Transport, @unchecked Sendable {
    /// This end's identity at the server (nil for the server itself).
    let peer: Peer?
    weak var hub: InMemoryHub?
    public let incoming: AsyncStream<Received>
    private let continuation: AsyncStream<Received>.Continuation
    private let lock = NSLock()
    private var closed = false

    init(peer: Peer?) {
        self.peer = peer
        (incoming, continuation) = AsyncStream.makeStream()
    }

    public func send(_ frames: [FramePayload], to peer: Peer?) {
        guard !lock.withLock({ closed }) else { return }
        hub?.route(frames.map(\.array), from: self, to: peer)
    }

    func deliver(_ received: Received) {
        guard !lock.withLock({ closed }) else { return }
        continuation.yield(received)
    }

    public func close() {
        lock.withLock { closed = true }
        continuation.finish()
        hub?.remove(self)
    }
}
