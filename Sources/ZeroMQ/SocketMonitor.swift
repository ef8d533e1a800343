import Foundation

/// Reads the events of one socket (`zmq_socket_monitor`): the monitored socket publishes them on an inproc PAIR
/// that this object's PAIR socket is connected to.
///
/// Create it before the monitored socket connects or binds, so that no event is missed (libzmq drops events
/// while no reader is connected). Like any socket it is used by one thread at a time; a `SocketLoop` can own it.
public final class SocketMonitor: Sendable {
    /// The PAIR socket the events arrive on.
    let socket: ZeroMQSocket

    init(monitoring monitored: ZeroMQSocket) throws(ZeroMQError) {
        let endpoint = "inproc://lethe.monitor.\(UUID().uuidString)"
        try Calls.zmq_socket_monitor(monitored.requireHandle("zmq_socket_monitor"), endpoint, SocketEvent.all)
        socket = try ZeroMQSocket(monitored.context, type: .pair)
        try socket.connect(endpoint)
    }

    /// The next event: nil when none is waiting (`dontWait`), or when `receiveTimeout` expired.
    public func next(dontWait: Bool = false) throws(ZeroMQError) -> SocketEvent? {
        while let message = try socket.receive(dontWait: dontWait) {
            if let event = SocketEvent(frames: message.frames) { return event }
        }
        return nil
    }

    /// The next event within `milliseconds`, or nil (blocks this thread; for synchronous callers).
    public func next(timeoutMilliseconds milliseconds: Int) throws(ZeroMQError) -> SocketEvent? {
        try socket.set(.receiveTimeout, to: milliseconds)
        return try next()
    }

    /// Closes the monitor's socket. Safe to call twice.
    public func close() { socket.close() }
}

extension ZeroMQSocket {
    /// Starts monitoring this socket's connection events. Call before `connect` or `bind`.
    public func monitor() throws(ZeroMQError) -> SocketMonitor {
        try SocketMonitor(monitoring: self)
    }
}
