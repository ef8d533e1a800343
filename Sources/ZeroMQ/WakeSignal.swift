import Foundation

/// Wakes a thread blocked in `zmq_poll` from any other thread, through an inproc PAIR socket pair: the waiting
/// thread polls `receiver` along with its own sockets; `signal()` (thread-safe) sends it an empty message.
final class WakeSignal: @unchecked Sendable {
    /// The socket to poll; only the waiting thread uses it.
    let receiver: ZeroMQSocket
    private let sender: Locked<ZeroMQSocket?>

    init(context: ZeroMQContext) throws(ZeroMQError) {
        let endpoint = "inproc://lethe.wake.\(UUID().uuidString)"
        receiver = try ZeroMQSocket(context, type: .pair)
        try receiver.bind(endpoint)
        let sender = try ZeroMQSocket(context, type: .pair)
        try sender.connect(endpoint)
        self.sender = Locked(sender)
    }

    /// Makes `receiver` readable. Never blocks: when the pipe is full a wake-up is pending anyway.
    /// Does nothing after `close()`.
    func signal() {
        sender.withLock { sender in _ = try? sender?.send([Frame([])], dontWait: true) }
    }

    /// Reads every pending wake-up (on the waiting thread) so that `receiver` is no longer readable.
    func drain() {
        while (try? receiver.receive(dontWait: true)) != nil {}
    }

    /// Closes both sockets (on the waiting thread, once it stops polling).
    func close() {
        sender.withLock { sender in
            sender?.close()
            sender = nil
        }
        receiver.close()
    }
}
