/// A ZeroMQ socket. Created with linger 0, so closing never waits for unsent messages.
///
/// Not thread-safe: use it from one thread at a time (it may move between threads, e.g. into a `SocketLoop`).
/// It keeps its context alive; `close()` or `deinit` closes it.
public final class ZeroMQSocket: @unchecked Sendable {
    /// The context the socket belongs to (kept alive by the socket).
    public let context: ZeroMQContext
    /// The socket's pattern.
    public let type: SocketType
    private var handle: Calls.Handle?

    /// Creates a socket of `type` in `context` and sets its linger to 0.
    public init(_ context: ZeroMQContext, type: SocketType) throws(ZeroMQError) {
        self.context = context
        self.type = type
        let handle = try Calls.zmq_socket(context.handle, type.rawValue)
        self.handle = handle
        try set(.linger, to: 0)
    }

    deinit {
        close()
    }

    /// Whether `close()` was called.
    public var isClosed: Bool { handle == nil }

    /// Closes the socket; pending outbound messages are dropped (linger 0 unless changed). Safe to call twice.
    public func close() {
        guard let handle else { return }
        self.handle = nil
        try? Calls.zmq_close(handle)
    }

    /// The libzmq handle, or `ENOTSOCK` naming `call` when the socket is closed.
    func requireHandle(_ call: String) throws(ZeroMQError) -> Calls.Handle {
        guard let handle else { throw .closed(call) }
        return handle
    }

    // MARK: Endpoints

    /// Binds to `endpoint` and returns the endpoint actually bound, with wildcards resolved:
    /// `"tcp://127.0.0.1:*"` gives e.g. `"tcp://127.0.0.1:40123"`.
    @discardableResult
    public func bind(_ endpoint: String) throws(ZeroMQError) -> String {
        try Calls.zmq_bind(requireHandle("zmq_bind"), endpoint)
        return try get(.lastEndpoint)
    }

    /// Stops listening on an endpoint returned by `bind`.
    public func unbind(_ endpoint: String) throws(ZeroMQError) {
        try Calls.zmq_unbind(requireHandle("zmq_unbind"), endpoint)
    }

    /// Connects to `endpoint`. The connection is made (and re-made after failures) in the background.
    public func connect(_ endpoint: String) throws(ZeroMQError) {
        try Calls.zmq_connect(requireHandle("zmq_connect"), endpoint)
    }

    /// Drops the connection to an endpoint passed to `connect`.
    public func disconnect(_ endpoint: String) throws(ZeroMQError) {
        try Calls.zmq_disconnect(requireHandle("zmq_disconnect"), endpoint)
    }

    // MARK: Options

    /// Sets a socket option.
    public func set<Value>(_ option: SocketOption<Value>, to value: Value) throws(ZeroMQError) {
        try Calls.zmq_setsockopt(requireHandle("zmq_setsockopt"), option.name, option.encode(value))
    }

    /// Reads a socket option.
    public func get<Value>(_ option: SocketOption<Value>) throws(ZeroMQError) -> Value {
        option.decode(try Calls.zmq_getsockopt(requireHandle("zmq_getsockopt"), option.name, capacity: option.capacity))
    }
}
