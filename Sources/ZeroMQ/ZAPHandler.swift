/// Authenticates the connections of a context's CURVE servers (ZAP, RFC 27) against an allowlist of client
/// public keys, on its own thread.
///
/// Binds a REP socket to `inproc://zeromq.zap.01` in the context, so there can be only one handler per context
/// (a second one fails with `EADDRINUSE`). libzmq asks it only about sockets with a ZAP domain, which
/// `makeCurveServer` sets. An allowed CURVE client gets its Z85 public key as user id, so every message it sends
/// carries it as `Message.userID`.
/// The allowlist is checked at each handshake: `revoke` keeps already authenticated connections open.
/// Thread-safe. `stop()` or `deinit` ends the thread.
public final class ZAPHandler: Sendable {
    /// The inproc endpoint libzmq sends ZAP requests to.
    public static let endpoint = "inproc://zeromq.zap.01"

    private let state: State
    private let thread: LoopThread

    /// Starts a handler in `context`.
    /// - Parameters:
    ///   - allowsNull: also allow NULL-mechanism connections (explicit insecure mode), with user id "". libzmq
    ///     consults ZAP about NULL connections only on sockets with a `zapDomain`.
    ///   - onRefusal: called on the handler's thread with the reason and, for CURVE, the client's Z85 key, each
    ///     time a connection is refused. It must not capture the handler strongly.
    public init(
        context: ZeroMQContext, allowsNull: Bool = false,
        onRefusal: (@Sendable (_ reason: String, _ publicKey: String?) -> Void)? = nil
    ) throws(ZeroMQError) {
        let socket = try ZeroMQSocket(context, type: .rep)
        try socket.bind(Self.endpoint)
        let state = State(allowsNull: allowsNull, onRefusal: onRefusal)
        self.state = state
        thread = try LoopThread(context: context, name: "lethe.zap") { thread in
            state.serve(socket, until: thread)
        }
    }

    deinit {
        stop()
    }

    /// Adds a client's Z85 public key to the allowlist. Throws for a malformed key.
    public func allow(_ publicKey: String) throws(CurveKeyError) {
        try CurveKeyPair.validate(publicKey)
        state.allowlist.withLock { _ = $0.insert(publicKey) }
    }

    /// Removes a key from the allowlist; new connections with it are refused.
    public func revoke(_ publicKey: String) {
        state.allowlist.withLock { _ = $0.remove(publicKey) }
    }

    /// Whether `publicKey` is on the allowlist.
    public func isAllowed(_ publicKey: String) -> Bool {
        state.allowlist.withLock { $0.contains(publicKey) }
    }

    /// The keys on the allowlist.
    public var allowedKeys: Set<String> { state.allowlist.withLock { $0 } }

    /// How many connections were refused so far.
    public var refusalCount: Int { state.refusals.withLock { $0 } }

    /// Stops the handler and closes its socket; returns once its thread has finished. Safe to call twice.
    /// Afterwards every CURVE connection in the context is refused (or, without `requireZAP`, accepted).
    public func stop() {
        thread.stop()
    }
}

extension ZAPHandler {
    /// What the handler's thread shares with its public methods.
    private final class State: Sendable {
        let allowlist = Locked<Set<String>>([])
        let refusals = Locked(0)
        let allowsNull: Bool
        let onRefusal: (@Sendable (String, String?) -> Void)?

        init(allowsNull: Bool, onRefusal: (@Sendable (String, String?) -> Void)?) {
            self.allowsNull = allowsNull
            self.onRefusal = onRefusal
        }

        /// Answers requests on `socket` until `thread` is asked to stop, then closes it.
        func serve(_ socket: ZeroMQSocket, until thread: LoopThread) {
            defer {
                try? socket.unbind(ZAPHandler.endpoint)  // at once; closing alone frees the name asynchronously
                socket.close()
            }
            let poller = Poller([socket, thread.wake.receiver])
            while !thread.isStopRequested {
                guard let ready = try? poller.readable(timeoutMilliseconds: -1) else { return }
                if ready.contains(1) { thread.wake.drain() }
                if ready.contains(0), let request = try? socket.receive(dontWait: true) {
                    let parsed = ZAPRequest(frames: request.frames)
                    let reply = decide(parsed)
                    _ = try? socket.send(reply.frames(requestID: parsed?.requestID ?? []))
                }
            }
        }

        func decide(_ request: ZAPRequest?) -> ZAPReply {
            guard let request else { return refuse(.failed("malformed ZAP request"), key: nil) }
            switch request.mechanism {
            case "CURVE":
                guard let key = request.curveClientKey else {
                    return refuse(.refused("malformed CURVE credentials"), key: nil)
                }
                if allowlist.withLock({ $0.contains(key) }) { return .allowed(userID: key) }
                return refuse(.refused("client key not allowed"), key: key)
            case "NULL" where allowsNull:
                return .allowed(userID: "")
            default:
                return refuse(.refused("mechanism \(request.mechanism) not allowed"), key: nil)
            }
        }

        private func refuse(_ reply: ZAPReply, key: String?) -> ZAPReply {
            refusals.withLock { $0 += 1 }
            onRefusal?(reply.text, key)
            return reply
        }
    }
}
