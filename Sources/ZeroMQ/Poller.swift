import CZeroMQ

/// Waits until some of a set of sockets have a message to read (`zmq_poll`).
///
/// Uses the sockets, so it is bound by their rule: one thread at a time.
public struct Poller {
    /// The sockets polled; results are indices into this array.
    public let sockets: [ZeroMQSocket]

    /// A poller over `sockets`.
    public init(_ sockets: [ZeroMQSocket]) {
        self.sockets = sockets
    }

    /// The indices of the sockets that can be read without blocking, waiting at most `timeoutMilliseconds`
    /// for one to become readable (0: just check, -1: wait forever). Empty on timeout, or early when a signal
    /// interrupted the wait. Throws `isClosed` if a socket was closed.
    public func readable(timeoutMilliseconds: Int) throws(ZeroMQError) -> [Int] {
        var items: [zmq_pollitem_t] = []
        items.reserveCapacity(sockets.count)
        for socket in sockets {
            let handle = try socket.requireHandle("zmq_poll")
            items.append(zmq_pollitem_t(socket: handle, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0))
        }
        do {
            guard try Calls.zmq_poll(&items, timeoutMilliseconds) > 0 else { return [] }
        } catch {
            if error.isInterrupted { return [] }
            throw error
        }
        return items.indices.filter { items[$0].revents & Int16(ZMQ_POLLIN) != 0 }
    }
}
