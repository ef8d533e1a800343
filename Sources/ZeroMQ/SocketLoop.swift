/// Owns a set of sockets on a dedicated thread and bridges them to Swift concurrency: messages arriving on any
/// socket come out of `incoming`; `send(_:on:)`, callable from any thread or task, queues outbound messages.
///
/// The thread blocks in `zmq_poll` (never a task of the cooperative pool) and is woken for outbound messages
/// through an inproc PAIR pair, so it never busy-waits. It sends with `dontWait`: a message that cannot be queued
/// at once (high-water mark reached, no peer, unknown ROUTER peer with `routerMandatory`) is dropped and reported
/// on `sendFailures`; the loop carries on. `incoming` buffers without bound, so consume it promptly.
///
/// Sockets given a `SocketMonitor` have their events read by the loop too and folded into a `ConnectionStatus`
/// (`connectionStatus(of:)`), so callers can tell why a connection does not come up.
public final class SocketLoop: Sendable {
    /// A message and the index of the socket it arrived on.
    public typealias Incoming = (socket: Int, message: Message)

    /// An outbound message the loop could not send.
    public struct SendFailure: Error, Sendable {
        /// The index of the socket it was for.
        public let socket: Int
        /// Why libzmq refused it (e.g. `isHostUnreachable`, `isWouldBlock`).
        public let error: ZeroMQError
        /// Its first frame: for a ROUTER, the routing id of the peer it was meant for.
        public let firstFrame: [UInt8]
    }

    /// Every message received on the loop's sockets, in arrival order per socket. Finishes after `stop()`.
    public let incoming: AsyncStream<Incoming>
    /// Messages that could not be sent. Finishes after `stop()`.
    public let sendFailures: AsyncStream<SendFailure>
    /// How many sockets the loop owns; `send(_:on:)` takes an index below it.
    public let socketCount: Int

    private let outbox = Locked<[(socket: Int, frames: [Frame])]>([])
    /// How long closing sockets wait for queued messages to go out (milliseconds; see `stop(lingering:)`).
    private let lingerMilliseconds = Locked<Int>(0)
    private let statuses: Locked<[Int: ConnectionStatus]>
    private let thread: LoopThread

    /// Starts a loop that owns `sockets` (bound or connected, with their options set) and the `monitors` of some
    /// of them, keyed by socket index (create each before its socket connects). From now on only the loop uses
    /// them; `stop()` closes them.
    public init(sockets: [ZeroMQSocket], monitors: [Int: SocketMonitor] = [:], name: String = "lethe.socket-loop")
        throws(ZeroMQError)
    {
        precondition(!sockets.isEmpty, "a socket loop needs at least one socket")
        precondition(monitors.keys.allSatisfy(sockets.indices.contains), "a monitor for a socket the loop lacks")
        let (incoming, received) = AsyncStream.makeStream(of: Incoming.self)
        let (sendFailures, failed) = AsyncStream.makeStream(of: SendFailure.self)
        self.incoming = incoming
        self.sendFailures = sendFailures
        socketCount = sockets.count
        let (outbox, linger) = (outbox, lingerMilliseconds)
        let statuses = Locked(monitors.mapValues { _ in ConnectionStatus() })
        self.statuses = statuses
        let watched = monitors.sorted { $0.key < $1.key }.map { (socket: $0.key, monitor: $0.value) }
        thread = try LoopThread(context: sockets[0].context, name: name) { thread in
            let loop = Loop(
                sockets: sockets, monitors: watched, statuses: statuses, outbox: outbox, linger: linger,
                received: received, failed: failed)
            loop.run(until: thread)
        }
    }

    deinit {
        stop()
    }

    /// Queues `frames` as one message for the socket at index `socket` and wakes the loop. Thread-safe.
    /// Returns false, dropping the message, once the loop is stopping.
    @discardableResult
    public func send(_ frames: [Frame], on socket: Int) -> Bool {
        precondition((0..<socketCount).contains(socket), "socket index \(socket) out of range 0..<\(socketCount)")
        precondition(!frames.isEmpty, "a message has at least one frame")
        guard !thread.isStopRequested else { return false }
        outbox.withLock { $0.append((socket, frames)) }
        thread.wake.signal()
        return true
    }

    /// What the events of the socket at index `socket` say about its connection so far; nil for a socket
    /// without a monitor. Thread-safe.
    public func connectionStatus(of socket: Int) -> ConnectionStatus? {
        statuses.withLock { $0[socket] }
    }

    /// Stops the loop: sends what is queued (best effort), closes the sockets, finishes both streams, and
    /// returns once the thread has finished. Safe to call twice.
    public func stop() {
        thread.stop()
    }

    /// Stops the loop like `stop()`, but the sockets' last messages (a goodbye) may take up to `linger` to go
    /// out: the context's termination waits for them.
    public func stop(lingering linger: Duration) {
        lingerMilliseconds.withLock { $0 = Int((linger / .milliseconds(1)).rounded(.up)) }
        thread.stop()
    }
}

/// The loop itself; lives on the loop's thread.
private struct Loop {
    /// Messages read from one socket before the others get a turn.
    static let batch = 64

    let sockets: [ZeroMQSocket]
    let monitors: [(socket: Int, monitor: SocketMonitor)]
    let statuses: Locked<[Int: ConnectionStatus]>
    let outbox: Locked<[(socket: Int, frames: [Frame])]>
    let linger: Locked<Int>
    let received: AsyncStream<SocketLoop.Incoming>.Continuation
    let failed: AsyncStream<SocketLoop.SendFailure>.Continuation

    func run(until thread: LoopThread) {
        defer {
            let linger = linger.withLock { $0 }
            for socket in sockets {
                if linger > 0 { try? socket.set(.linger, to: linger) }
                socket.close()
            }
            for (_, monitor) in monitors { monitor.close() }
            received.finish()
            failed.finish()
        }
        let wakeIndex = sockets.count
        let poller = Poller(sockets + [thread.wake.receiver] + monitors.map(\.monitor.socket))
        while true {
            flushOutbox()
            if thread.isStopRequested { return }
            guard let ready = try? poller.readable(timeoutMilliseconds: -1) else { return }
            for index in ready {
                if index == wakeIndex {
                    thread.wake.drain()
                } else if index > wakeIndex {
                    readEvents(of: monitors[index - wakeIndex - 1])
                } else {
                    receive(from: index)
                }
            }
        }
    }

    private func receive(from index: Int) {
        for _ in 0..<Self.batch {
            guard let message = try? sockets[index].receive(dontWait: true) else { return }
            received.yield((socket: index, message: message))
        }
    }

    private func readEvents(of watched: (socket: Int, monitor: SocketMonitor)) {
        for _ in 0..<Self.batch {
            guard let event = try? watched.monitor.next(dontWait: true) else { return }
            statuses.withLock { $0[watched.socket]?.record(event) }
        }
    }

    private func flushOutbox() {
        let pending = outbox.withLock { outbox in
            defer { outbox.removeAll() }
            return outbox
        }
        for (index, frames) in pending {
            do {
                try sockets[index].send(frames, dontWait: true)
            } catch {
                failed.yield(SocketLoop.SendFailure(socket: index, error: error, firstFrame: frames[0].bytes))
            }
        }
    }
}
