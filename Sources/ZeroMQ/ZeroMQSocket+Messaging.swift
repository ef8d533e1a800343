import CZeroMQ

extension ZeroMQSocket {
    /// Sends `frames` as one multipart message (`ZMQ_SNDMORE` on all but the last), retrying after `EINTR`.
    ///
    /// With `dontWait`, a message that cannot be queued at once fails with `isWouldBlock`. A ROUTER with
    /// `routerMandatory` fails with `isHostUnreachable` when the first frame names no connected peer; nothing is
    /// sent then. Zero-copy frames that were not handed to libzmq are released with the array.
    public func send(_ frames: [Frame], dontWait: Bool = false) throws(ZeroMQError) {
        precondition(!frames.isEmpty, "a message has at least one frame")
        let socket = try requireHandle("zmq_msg_send")
        let message = Calls.MessagePointer.allocate(capacity: 1)
        defer { message.deallocate() }
        for (index, frame) in frames.enumerated() {
            var flags: Int32 = dontWait ? ZMQ_DONTWAIT : 0
            if index < frames.count - 1 { flags |= ZMQ_SNDMORE }
            try frame.initialize(message)
            do {
                try retryingInterrupts { () throws(ZeroMQError) in try Calls.zmq_msg_send(message, socket, flags) }
            } catch {
                Calls.zmq_msg_close(message)  // a failed send leaves the message (and a zero-copy owner) with us
                throw error
            }
        }
    }

    /// Receives all parts of one multipart message, retrying after `EINTR`.
    ///
    /// Returns nil when no message is available: at once with `dontWait`, or after `receiveTimeout` expired.
    public func receive(dontWait: Bool = false) throws(ZeroMQError) -> Message? {
        let socket = try requireHandle("zmq_msg_recv")
        let message = Calls.MessagePointer.allocate(capacity: 1)
        defer { message.deallocate() }
        let flags: Int32 = dontWait ? ZMQ_DONTWAIT : 0
        var frames: [[UInt8]] = []
        var userID: String?
        var more = true
        while more {
            try Calls.zmq_msg_init(message)
            defer { Calls.zmq_msg_close(message) }
            do {
                try retryingInterrupts { () throws(ZeroMQError) in try Calls.zmq_msg_recv(message, socket, flags) }
            } catch {
                // Later parts of a message arrive together with the first, so only the first can be missing.
                if error.isWouldBlock && frames.isEmpty { return nil }
                throw error
            }
            frames.append(Array(Calls.zmq_msg_data(message)))
            if userID == nil { userID = Calls.zmq_msg_gets(message, "User-Id") }
            more = Calls.zmq_msg_more(message)
        }
        return Message(frames: frames, userID: userID)
    }
}

/// Runs `call` again for as long as it fails with `EINTR`.
func retryingInterrupts(_ call: () throws(ZeroMQError) -> Void) throws(ZeroMQError) {
    while true {
        do {
            try call()
            return
        } catch {
            if !error.isInterrupted { throw error }
        }
    }
}
