import CZeroMQ

/// One event of a monitored socket (`zmq_socket_monitor`), decoded from the monitor's two-frame message:
/// a 16-bit event number and a 32-bit value, then the endpoint concerned.
public struct SocketEvent: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// A connection was made (before any security handshake).
        case connected
        /// A connect is in progress and will complete asynchronously.
        case connectDelayed
        /// A connect attempt failed (or a connection was lost) and will be retried; the value is the interval.
        case connectRetried
        /// A connection (or a failed connect attempt's socket) was closed.
        case closed
        /// An established connection was lost.
        case disconnected
        /// The ZMTP handshake, security included, completed.
        case handshakeSucceeded
        /// The handshake failed without a protocol error, e.g. the peer closed the connection; the value is errno.
        case handshakeFailedNoDetail
        /// The handshake broke ZMTP or the security mechanism; the value is a `ProtocolError` code.
        case handshakeFailedProtocol
        /// The server's ZAP handler refused us; the value is the ZAP status code (400: not allowed).
        case handshakeFailedAuth
        /// Any other event (listening, accepted, bind failed, monitor stopped, …), by its libzmq number.
        case other(Int)
    }

    /// Codes of `handshakeFailedProtocol` events (`ZMQ_PROTOCOL_ERROR_*`) that callers tell apart.
    public enum ProtocolError {
        /// The peers use different security mechanisms (e.g. NULL against CURVE).
        public static let mechanismMismatch = UInt32(ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH)
        /// A CURVE box failed to open: wrong keys.
        public static let cryptographic = UInt32(ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC)
    }

    public let kind: Kind
    /// The event's value: errno, reconnect interval, ZAP status or protocol error code, depending on `kind`.
    public let value: UInt32
    /// The endpoint the event is about.
    public let endpoint: String

    public init(kind: Kind, value: UInt32, endpoint: String) {
        self.kind = kind
        self.value = value
        self.endpoint = endpoint
    }

    /// Decodes a monitor message; nil when it is not one (libzmq 4.x's version 1 format).
    init?(frames: [[UInt8]]) {
        guard frames.count == 2, frames[0].count == 6 else { return nil }
        let head = frames[0]
        let number = Int(UInt16(head[0]) | UInt16(head[1]) << 8)
        value = UInt32(head[2]) | UInt32(head[3]) << 8 | UInt32(head[4]) << 16 | UInt32(head[5]) << 24
        endpoint = String(decoding: frames[1], as: UTF8.self)
        kind = Self.kind(of: number)
    }

    /// Every event the monitor reports, as a `zmq_socket_monitor` mask.
    static let all = ZMQ_EVENT_ALL

    private static func kind(of number: Int) -> Kind {
        switch Int32(number) {
        case ZMQ_EVENT_CONNECTED: .connected
        case ZMQ_EVENT_CONNECT_DELAYED: .connectDelayed
        case ZMQ_EVENT_CONNECT_RETRIED: .connectRetried
        case ZMQ_EVENT_CLOSED: .closed
        case ZMQ_EVENT_DISCONNECTED: .disconnected
        case ZMQ_EVENT_HANDSHAKE_SUCCEEDED: .handshakeSucceeded
        case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL: .handshakeFailedNoDetail
        case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL: .handshakeFailedProtocol
        case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH: .handshakeFailedAuth
        default: .other(number)
        }
    }

    public var description: String { "\(kind) (\(value)) on \(endpoint)" }
}
