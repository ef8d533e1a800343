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

    /// How long connection attempts that never got through must have failed before a client reports that nothing
    /// listens (ZeroMQ retries every 100 ms; a coordinator that is just starting gets this long to bind).
    public static let refusalGrace = Duration.seconds(3)

    private let loop: SocketLoop
    private let isServer: Bool
    private let security: TransportSecurity
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
        return try ZeroMQTransport(socket: socket, monitor: nil, endpoint: bound, security: security)
    }

    public static func client(_ context: ZeroMQContext, connect endpoint: String, security: TransportSecurity) throws
        -> ZeroMQTransport
    {
        let socket = try ZeroMQSocket(context, type: .dealer)
        try configure(socket, security)
        let monitor = try socket.monitor()  // before connecting, so that no event is missed
        try socket.connect(endpoint)
        return try ZeroMQTransport(socket: socket, monitor: monitor, endpoint: endpoint, security: security)
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

    /// A server without a monitor, or a client with one.
    private init(socket: ZeroMQSocket, monitor: SocketMonitor?, endpoint: String, security: TransportSecurity) throws {
        let isServer = monitor == nil
        loop = try SocketLoop(
            sockets: [socket], monitors: monitor.map { [0: $0] } ?? [:],
            name: isServer ? "lethe.server-io" : "lethe.client-io")
        self.isServer = isServer
        self.endpoint = endpoint
        self.security = security
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

    public func close(lingering linger: Duration) { loop.stop(lingering: linger) }

    public var connectionProblem: ConnectionProblem? {
        guard let status = loop.connectionStatus(of: 0), !status.isReady, let failure = status.failure else {
            return nil
        }
        let kind: ConnectionProblem.Kind
        switch failure {
        case .notAccepted:
            // Only when nothing ever got through: a coordinator that restarts is waited for as before.
            guard !status.hasEverConnected, let since = status.failingSince,
                since.duration(to: .now) >= Self.refusalGrace
            else { return nil }
            kind = .nothingListening
        case .authenticationRefused(let statusCode):
            guard case .curveClient(let keys, _) = security else { return nil }  // NULL peers refused by ZAP: rare
            kind = .keyRefused(publicKey: keys.publicKey, statusCode: statusCode)
        case .mechanismMismatch:
            kind = .securityMismatch(clientIsPlaintext: isPlaintext)
        case .protocolError, .closedDuringHandshake:
            kind = .handshakeBrokenOff(clientIsPlaintext: isPlaintext)
        }
        return ConnectionProblem(kind, endpoint: endpoint)
    }

    private var isPlaintext: Bool {
        if case .insecure = security { true } else { false }
    }
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
