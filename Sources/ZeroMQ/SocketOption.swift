import CZeroMQ

/// A typed socket option: `try socket.set(.linger, to: 0)`, `try socket.get(.maxMessageSize)`.
///
/// Only the options declared here exist; each carries its libzmq option number and how its value is encoded.
public struct SocketOption<Value: Sendable>: Sendable {
    let name: Int32
    let capacity: Int
    let encode: @Sendable (Value) -> [UInt8]
    let decode: @Sendable ([UInt8]) -> Value
}

extension SocketOption where Value == Int {
    /// An option libzmq stores as a C `int`; values outside its range are clamped.
    init(_ name: Int32) {
        self.init(
            name: name, capacity: 4, encode: { bytes(of: Int32(clamping: $0)) },
            decode: { Int(value(from: $0, default: Int32(0))) })
    }

    /// `ZMQ_LINGER`: milliseconds pending messages are kept after close (-1: forever). Lethe's sockets start at 0.
    public static var linger: Self { Self(ZMQ_LINGER) }
    /// `ZMQ_SNDHWM`: outbound messages queued per peer before sends block or fail with `EAGAIN` (0: no limit).
    public static var sendHighWaterMark: Self { Self(ZMQ_SNDHWM) }
    /// `ZMQ_RCVHWM`: inbound messages queued per peer before libzmq stops reading from it (0: no limit).
    public static var receiveHighWaterMark: Self { Self(ZMQ_RCVHWM) }
    /// `ZMQ_RCVTIMEO`: milliseconds a blocking receive waits before returning nil (-1: forever, the default).
    public static var receiveTimeout: Self { Self(ZMQ_RCVTIMEO) }
    /// `ZMQ_SNDTIMEO`: milliseconds a blocking send waits before failing with `EAGAIN` (-1: forever).
    public static var sendTimeout: Self { Self(ZMQ_SNDTIMEO) }
    /// `ZMQ_HEARTBEAT_IVL`: milliseconds between ZMTP PING heartbeats (0: off).
    public static var heartbeatInterval: Self { Self(ZMQ_HEARTBEAT_IVL) }
    /// `ZMQ_HEARTBEAT_TIMEOUT`: milliseconds without traffic after a PING before the connection is dropped.
    public static var heartbeatTimeout: Self { Self(ZMQ_HEARTBEAT_TIMEOUT) }
    /// `ZMQ_HEARTBEAT_TTL`: milliseconds the remote peer should wait for traffic before dropping us.
    public static var heartbeatTTL: Self { Self(ZMQ_HEARTBEAT_TTL) }
    /// `ZMQ_RECONNECT_IVL`: milliseconds before a connecting socket retries a lost connection (-1: never).
    public static var reconnectInterval: Self { Self(ZMQ_RECONNECT_IVL) }
}

extension SocketOption where Value == Int {
    /// `ZMQ_MAXMSGSIZE` (a C `int64_t`): the largest inbound frame in bytes (-1: no limit). libzmq checks each frame
    /// of a message, not the message's total, and drops the connection of a peer that sends a larger one.
    /// Not enforced over inproc.
    public static var maxMessageSize: Self {
        Self(
            name: ZMQ_MAXMSGSIZE, capacity: 8, encode: { bytes(of: Int64($0)) },
            decode: { Int(value(from: $0, default: Int64(0))) })
    }
}

extension SocketOption where Value == Bool {
    init(_ name: Int32) {
        self.init(
            name: name, capacity: 4, encode: { bytes(of: Int32($0 ? 1 : 0)) },
            decode: { value(from: $0, default: Int32(0)) != 0 })
    }

    /// `ZMQ_ROUTER_MANDATORY` (ROUTER, set only): sending to an unknown routing id fails with `EHOSTUNREACH`
    /// instead of silently dropping the message.
    public static var routerMandatory: Self { Self(ZMQ_ROUTER_MANDATORY) }
    /// `ZMQ_IPV6`: whether TCP endpoints may use IPv6.
    public static var ipv6: Self { Self(ZMQ_IPV6) }
    /// `ZMQ_CURVE_SERVER`: act as a CURVE server (`makeCurveServer` sets it together with the secret key).
    static var curveServer: Self { Self(ZMQ_CURVE_SERVER) }
    /// `ZMQ_ZAP_ENFORCE_DOMAIN` (libzmq draft option 93): refuse connections when no ZAP handler is running,
    /// instead of accepting every client. `makeCurveServer` sets it.
    static var zapEnforceDomain: Self { Self(93) }
}

extension SocketOption where Value == [UInt8] {
    init(_ name: Int32, capacity: Int) {
        self.init(name: name, capacity: capacity, encode: { $0 }, decode: { $0 })
    }

    /// `ZMQ_ROUTING_ID`: the id a ROUTER peer sees for this socket (1–255 bytes, not starting with 0).
    /// Set before connecting.
    public static var routingID: Self { Self(ZMQ_ROUTING_ID, capacity: 255) }
    /// `ZMQ_SUBSCRIBE` (SUB, set only): receive messages whose first frame starts with these bytes.
    public static var subscribe: Self { Self(ZMQ_SUBSCRIBE, capacity: 0) }
    /// `ZMQ_UNSUBSCRIBE` (SUB, set only): remove a subscription.
    public static var unsubscribe: Self { Self(ZMQ_UNSUBSCRIBE, capacity: 0) }
}

extension SocketOption where Value == String {
    init(_ name: Int32) {
        self.init(
            name: name, capacity: 1024, encode: { Array($0.utf8) },
            decode: { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) })
    }

    /// `ZMQ_ZAPDOMAIN`: the domain sent in ZAP requests. With the NULL mechanism, ZAP is consulted only when set.
    public static var zapDomain: Self { Self(ZMQ_ZAP_DOMAIN) }
    /// `ZMQ_LAST_ENDPOINT` (read only): the endpoint of the last bind or connect, with wildcards resolved.
    public static var lastEndpoint: Self { Self(ZMQ_LAST_ENDPOINT) }

    // CURVE keys as Z85 text; set through `makeCurveServer` / `makeCurveClient`, which validate them.
    static var curveSecretKey: Self { Self(ZMQ_CURVE_SECRETKEY) }
    static var curvePublicKey: Self { Self(ZMQ_CURVE_PUBLICKEY) }
    static var curveServerKey: Self { Self(ZMQ_CURVE_SERVERKEY) }
}

private func bytes<T: FixedWidthInteger>(of value: T) -> [UInt8] {
    withUnsafeBytes(of: value) { Array($0) }
}

private func value<T: FixedWidthInteger>(from bytes: [UInt8], default fallback: T) -> T {
    guard bytes.count == MemoryLayout<T>.size else { return fallback }
    return bytes.withUnsafeBytes { $0.loadUnaligned(as: T.self) }
}
