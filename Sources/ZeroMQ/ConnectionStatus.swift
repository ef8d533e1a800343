/// What the events of a connecting socket say about its connection: whether it is up, and if not, how the
/// attempts since it last was (or since the start) failed. A value folded from `SocketEvent`s with `record`.
///
/// libzmq retries failed connections by itself, so a failure is a state that lasts until a handshake succeeds.
/// Attempts against one peer can fail differently: a mechanism mismatch is sometimes seen as the peer closing the
/// connection (EPIPE) when the peer reads the greeting first. So `failure` keeps the most telling one.
public struct ConnectionStatus: Sendable, Equatable {
    /// How an attempt failed, as far as the events tell.
    public enum Failure: Sendable, Equatable {
        /// The connect itself failed (retried without a connection ever being made): nothing accepted it.
        case notAccepted
        /// The server's ZAP handler refused our credentials, with its status code (400: not allowed).
        case authenticationRefused(statusCode: Int)
        /// The peers use different security mechanisms (e.g. NULL against CURVE).
        case mechanismMismatch
        /// The handshake broke ZMTP or the security mechanism (e.g. a CURVE box that did not open), by its
        /// `ZMQ_PROTOCOL_ERROR_*` code.
        case protocolError(code: UInt32)
        /// The connection broke off during the handshake without a reason (e.g. the server closed it), with errno.
        case closedDuringHandshake(errno: Int32)

        /// How much a failure tells: a more telling one is not replaced by a less telling one.
        var detail: Int {
            switch self {
            case .notAccepted: 0
            case .closedDuringHandshake: 1
            case .protocolError: 2
            case .authenticationRefused, .mechanismMismatch: 3
            }
        }
    }

    /// Whether a handshake succeeded and the connection has not been lost since.
    public private(set) var isReady = false
    /// Whether any attempt got as far as a connection (a listener accepted it), handshake or not.
    public private(set) var hasEverConnected = false
    /// Whether any handshake ever succeeded.
    public private(set) var hasEverBeenReady = false
    /// The most telling failure since the last successful handshake, the latest of equally telling ones (nil while
    /// ready, or before anything failed).
    public private(set) var failure: Failure?
    /// When the first failure since the last successful handshake happened.
    public private(set) var failingSince: ContinuousClock.Instant?
    /// Failed attempts since the last successful handshake.
    public private(set) var failedAttempts = 0
    /// Whether the attempt in progress got a connection.
    private var attemptConnected = false

    public init() {}

    /// Takes `event`, seen at `time`, into account.
    public mutating func record(_ event: SocketEvent, at time: ContinuousClock.Instant = .now) {
        switch event.kind {
        case .connected:
            attemptConnected = true
            hasEverConnected = true
        case .connectRetried:
            if !attemptConnected { fail(.notAccepted, at: time) }
            attemptConnected = false
        case .handshakeSucceeded:
            isReady = true
            hasEverBeenReady = true
            failure = nil
            failingSince = nil
            failedAttempts = 0
        case .disconnected:
            isReady = false
        case .handshakeFailedAuth:
            fail(.authenticationRefused(statusCode: Int(event.value)), at: time)
        case .handshakeFailedProtocol:
            let code = event.value
            fail(
                code == SocketEvent.ProtocolError.mechanismMismatch ? .mechanismMismatch : .protocolError(code: code),
                at: time)
        case .handshakeFailedNoDetail:
            fail(.closedDuringHandshake(errno: Int32(bitPattern: event.value)), at: time)
        case .connectDelayed, .closed, .other:
            break
        }
    }

    private mutating func fail(_ failure: Failure, at time: ContinuousClock.Instant) {
        isReady = false
        if failure.detail >= (self.failure?.detail ?? 0) { self.failure = failure }
        failingSince = failingSince ?? time
        failedAttempts += 1
    }
}
