/// A libzmq context: the I/O threads and in-process endpoints that sockets share.
///
/// Thread-safe (libzmq contexts are). Every `ZeroMQSocket` keeps a strong reference to its context, so the context
/// is terminated only after its last socket was closed and released: `deinit` never waits for open sockets.
/// `inproc://` endpoints are only reachable from sockets of the same context.
public final class ZeroMQContext: @unchecked Sendable {
    let handle: Calls.Handle

    /// Creates a context. Throws only when the process is out of resources (e.g. file descriptors).
    public init() throws(ZeroMQError) {
        handle = try Calls.zmq_ctx_new()
    }

    deinit {
        // All sockets are closed by now (each holds a reference to this context), so this cannot block.
        try? Calls.zmq_ctx_shutdown(handle)
        while true {
            do {
                try Calls.zmq_ctx_term(handle)
                return
            } catch {
                if !error.isInterrupted { return }
            }
        }
    }
}
