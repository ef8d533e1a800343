import Foundation

/// A dedicated thread that runs a socket loop, plus what every such loop needs to stop cleanly: a stop flag, a
/// `WakeSignal` to interrupt its `zmq_poll`, and a latch opened when the thread has finished.
///
/// The thread retains only this object and its body, never the public object that owns them, so the owner's
/// `deinit` can stop it.
final class LoopThread: Sendable {
    /// Poll `wake.receiver` next to the loop's sockets; `signal()` it to make the loop look at its state.
    let wake: WakeSignal
    private let stopRequested = Locked(false)
    private let loopThread = Locked<ObjectIdentifier?>(nil)
    private let finished = Latch()

    /// Starts a thread called `name` that runs `body` until it returns, then closes the wake signal.
    /// `body` must return soon after `isStopRequested` becomes true (it is woken through `wake`).
    init(context: ZeroMQContext, name: String, body: @escaping @Sendable (LoopThread) -> Void) throws(ZeroMQError) {
        wake = try WakeSignal(context: context)
        let thread = Thread { [self] in
            loopThread.withLock { $0 = ObjectIdentifier(Thread.current) }
            body(self)
            wake.close()
            finished.open()
        }
        thread.name = name
        thread.start()
    }

    /// Whether `stop()` was called.
    var isStopRequested: Bool { stopRequested.withLock { $0 } }

    /// Asks the loop to stop and waits until its thread has finished (unless called on that thread).
    func stop() {
        stopRequested.withLock { $0 = true }
        wake.signal()
        let onLoopThread = loopThread.withLock { $0 == ObjectIdentifier(Thread.current) }
        if !onLoopThread { finished.wait() }
    }
}
