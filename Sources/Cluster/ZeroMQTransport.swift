import Wire
import ZeroMQ

/// How a socket authenticates (DESIGN §5): CURVE by default; plaintext only when asked for explicitly.
public enum TransportSecurity: Sendable {
    case insecure
    /// A server with its key pair (clients are checked by the context's `ZAPHandler`).
    case curveServer(CurveKeyPair)
    /// A client with its own key pair, trusting the server's public key.
    case curveClient(CurveKeyPair, serverPublicKey: String)
}

/// The daemons' transport over ZeroMQ: a ROUTER that binds (coordinator) or a DEALER that connects (worker,
/// client), owned by a `SocketLoop` thread. Frames go out without copying; received messages carry the peer's
/// routing id and the key it authenticated with.
public final class ZeroMQTransport: Transport {
    /// Largest frame a peer may send (libzmq drops the connection of a peer that exceeds it).
    public static let maximumFrameBytes = (1 << 30) + 4096
    public static let highWaterMark = 10_000

    private let loop: SocketLoop
    private let isServer: Bool
    public let incoming: AsyncStream<Received>
    /// The endpoint actually bound (a `tcp://…:*` bind resolves its port).
    public let endpoint: String

    public static func server(_ context: ZeroMQContext, bind endpoint: String, security: TransportSecurity) throws
        -> ZeroMQTransport
    {
        let socket = try ZeroMQSocket(context, type: .router)
        try socket.set(.routerMandatory, to: true)
        try configure(socket, security)
        let bound = try socket.bind(endpoint)
        return try ZeroMQTransport(socket: socket, isServer: true, endpoint: bound)
    }

    public static func client(_ context: ZeroMQContext, connect endpoint: String, security: TransportSecurity) throws
        -> ZeroMQTransport
    {
        let socket = try ZeroMQSocket(context, type: .dealer)
        try configure(socket, security)
        try socket.connect(endpoint)
        return try ZeroMQTransport(socket: socket, isServer: false, endpoint: endpoint)
    }

    private static func configure(_ socket: ZeroMQSocket, _ security: TransportSecurity) throws {
        try socket.set(.sendHighWaterMark, to: highWaterMark)
        try socket.set(.receiveHighWaterMark, to: highWaterMark)
        try socket.set(.maxMessageSize, to: maximumFrameBytes)
        switch security {
        case .insecure: break
        case .curveServer(let keys): try socket.makeCurveServer(secretKey: keys.secretKey)
        case .curveClient(let keys, let server): try socket.makeCurveClient(serverPublicKey: server, keyPair: keys)
        }
    }

    private init(socket: ZeroMQSocket, isServer: Bool, endpoint: String) throws {
        loop = try SocketLoop(sockets: [socket], name: isServer ? "lethe.server-io" : "lethe.client-io")
        self.isServer = isServer
        self.endpoint = endpoint
        // The consumer reads the loop's stream itself (no forwarding task: one hop less per message).
        let reader = IncomingReader(loop.incoming.makeAsyncIterator(), isServer: isServer)
        incoming = AsyncStream { await reader.next() }
    }

    public func send(_ frames: [FramePayload], to peer: Peer?) {
        // Large frames (tensors, chunks) go without copying; small ones are cheaper to copy.
        var parts = frames.map {
            $0.count < 4096 ? Frame($0.array) : Frame(noCopy: UnsafeRawBufferPointer($0.bytes), owner: $0)
        }
        if isServer {
            guard let peer else { return }
            parts.insert(Frame(peer.routingID), at: 0)
        }
        _ = loop.send(parts, on: 0)
    }

    public func close() { loop.stop() }
}

/// Turns the loop's messages into `Received` ones for the transport's single consumer.
private final class IncomingReader: @unchecked Sendable {  // only the transport's one consumer calls `next`
    private var source: AsyncStream<SocketLoop.Incoming>.Iterator
    private let isServer: Bool

    init(_ source: AsyncStream<SocketLoop.Incoming>.Iterator, isServer: Bool) {
        self.source = source
        self.isServer = isServer
    }

    func next() async -> Received? {
        while let (_, message) = await source.next() {
            guard isServer else { return Received(peer: Peer(routingID: [], key: nil), frames: message.frames) }
            guard let routingID = message.frames.first else { continue }
            let key = message.userID.flatMap { $0.isEmpty ? nil : $0 }
            return Received(peer: Peer(routingID: routingID, key: key), frames: Array(message.frames.dropFirst()))
        }
        return nil
    }
}
