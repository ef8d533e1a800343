import CZeroMQ

/// A libzmq context: the I/O threads and in-process endpoints that sockets share.
///
/// Thread-safe (libzmq contexts are). Every `ZeroMQSocket` keeps a strong reference to its context, so the context
/// is terminated only after its last socket was closed and released: `deinit` never waits for open sockets.
/// `inproc://` endpoints are only reachable from sockets of the same context.
public final class ZeroMQContext: @unchecked Sendable {
    let handle: Calls.Handle

    /// Creates a context with `ioThreads` background threads for its connections' I/O (libzmq's default is one;
    /// each connection is served by one of them, so a hub talking to several peers at once — CURVE encrypting and
    /// decrypting every byte — gains from one per core). Throws only when the process is out of resources (e.g.
    /// file descriptors).
    public init(ioThreads: Int = 1) throws(ZeroMQError) {
        handle = try Calls.zmq_ctx_new()
        try Calls.zmq_ctx_set(handle, ZMQ_IO_THREADS, Int32(clamping: max(1, ioThreads)))
    }

    /// The I/O threads this context runs.
    public var ioThreads: Int { Int((try? Calls.zmq_ctx_get(handle, ZMQ_IO_THREADS)) ?? 1) }

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
