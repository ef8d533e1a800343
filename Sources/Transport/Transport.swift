import Wire

/// A peer of a server socket, as the transport knows it: its routing id and the key it authenticated with.
public struct Peer: Hashable, Sendable, CustomStringConvertible {
    public var routingID: [UInt8]
    /// The CURVE public key the peer proved it holds (Z85), or nil on an insecure transport.
    public var key: String?

    public init(routingID: [UInt8], key: String?) {
        self.routingID = routingID
        self.key = key
    }

    public var description: String {
        key.map { "key \($0.prefix(8))…" } ?? "peer \(routingID.map { String($0, radix: 16) }.joined())"
    }
}

/// One received multipart message.
public struct Received: Sendable {
    public var peer: Peer
    public var frames: [[UInt8]]

    public init(peer: Peer, frames: [[UInt8]]) {
        self.peer = peer
        self.frames = frames
    }

    /// The decoded envelope of what `Message`'s side sends, or nil after handing the reason it cannot be decoded
    /// (`WireError.unexpected` for another side's message) to `refuse`.
    public func envelope<Message: WireMessage>(
        as type: Message.Type = Message.self, refusing refuse: (WireError) -> Void
    )
        -> Envelope<Message>?
    {
        do throws(WireError) {
            return try WireCodec.decode(frames)
        } catch {
            refuse(error)
            return nil
        }
    }
}

/// What the daemons need from the network (DESIGN §1): send frames to a peer and receive messages. The ZeroMQ
/// implementation owns its sockets on one I/O thread; `send` may be called from any thread.
public protocol Transport: AnyObject, Sendable {
    /// Sends one message; a server names the peer, a client (one connection) passes nil.
    func send(_ frames: [FramePayload], to peer: Peer?)
    var incoming: AsyncStream<Received> { get }
    /// What keeps a client from reaching its server, once the transport can tell; nil while it can not (or there
    /// is nothing wrong), and always for servers.
    var connectionProblem: ConnectionProblem? { get }
    func close()
    /// Closes, but what was just sent (a goodbye) may take up to `linger` to go out.
    func close(lingering linger: Duration)
}

extension Transport {
    public var connectionProblem: ConnectionProblem? { nil }

    public func close(lingering linger: Duration) { close() }

    public func send<Message: WireMessage>(_ envelope: Envelope<Message>, to peer: Peer?) {
        send(WireCodec.encode(envelope), to: peer)
    }
}
