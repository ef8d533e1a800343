import Foundation
import Synchronization
import Wire

/// A transport without sockets, for tests of the daemons' logic (DESIGN §1): one server end and any number of
/// client ends, delivering frames in order. Dropping a client (`close`) loses whatever it would have sent.
public final class InMemoryHub: Sendable {
    private struct Clients {
        var byRoutingID: [[UInt8]: InMemoryTransport] = [:]
        var nextID: UInt8 = 1
    }

    private let clients = Mutex(Clients())
    public let server: InMemoryTransport

    public init() {
        server = InMemoryTransport(peer: nil)
        server.attach(to: self)
    }

    /// A new client end, authenticated as `key`.
    public func connect(key: String? = nil) -> InMemoryTransport {
        let client = clients.withLock { clients in
            let peer = Peer(routingID: [clients.nextID], key: key)
            clients.nextID &+= 1
            let client = InMemoryTransport(peer: peer)
            clients.byRoutingID[peer.routingID] = client
            return client
        }
        client.attach(to: self)
        return client
    }

    func route(_ frames: [[UInt8]], from sender: InMemoryTransport, to peer: Peer?) {
        if let own = sender.peer {
            server.deliver(Received(peer: own, frames: frames))
        } else if let peer, let client = clients.withLock({ $0.byRoutingID[peer.routingID] }) {
            client.deliver(Received(peer: Peer(routingID: [], key: nil), frames: frames))
        }
    }

    func remove(_ client: InMemoryTransport) {
        guard let peer = client.peer else { return }
        _ = clients.withLock { $0.byRoutingID.removeValue(forKey: peer.routingID) }
    }
}

public final class InMemoryTransport: Transport, Sendable {
    /// The server end only points back at its hub (which owns it); an open client end keeps the hub alive, so a
    /// client handed on without its hub still reaches the server. Closing a client lets go of the hub.
    private struct State {
        weak var hub: InMemoryHub?
        var keptHub: InMemoryHub?
        var closed = false
    }

    /// This end's identity at the server (nil for the server itself).
    let peer: Peer?
    public let incoming: AsyncStream<Received>
    private let continuation: AsyncStream<Received>.Continuation
    private let state = Mutex(State())

    init(peer: Peer?) {
        self.peer = peer
        (incoming, continuation) = AsyncStream.makeStream()
    }

    fileprivate func attach(to hub: InMemoryHub) {
        state.withLock { state in
            state.hub = hub
            if peer != nil { state.keptHub = hub }
        }
    }

    /// The hub while this end is open.
    private var openHub: InMemoryHub? {
        state.withLock { $0.closed ? nil : $0.hub }
    }

    public func send(_ frames: [FramePayload], to peer: Peer?) {
        openHub?.route(frames.map(\.array), from: self, to: peer)
    }

    func deliver(_ received: Received) {
        guard !state.withLock({ $0.closed }) else { return }
        continuation.yield(received)
    }

    public func close() {
        let hub = state.withLock { state in
            state.closed = true
            state.keptHub = nil
            return state.hub
        }
        continuation.finish()
        hub?.remove(self)
    }
}
