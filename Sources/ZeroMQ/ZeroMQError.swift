import CZeroMQ
import Foundation

/// A failed libzmq call: the C `errno` it reported, libzmq's message for it and the call that failed.
public struct ZeroMQError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The C `errno` value (e.g. `EAGAIN`, `EHOSTUNREACH`).
    public let code: Int32
    /// `zmq_strerror(code)`, or a more specific explanation for errors raised by this wrapper.
    public let message: String
    /// The libzmq function that failed, e.g. `"zmq_bind"`.
    public let call: String

    /// An error for `call` carrying `code` and libzmq's message for it.
    public init(code: Int32, call: String) {
        self.init(code: code, message: String(cString: zmq_strerror(code)), call: call)
    }

    /// An error with an explicit message.
    public init(code: Int32, message: String, call: String) {
        self.code = code
        self.message = message
        self.call = call
    }

    /// The error of the last failed libzmq call on this thread.
    static func last(_ call: String) -> ZeroMQError {
        ZeroMQError(code: zmq_errno(), call: call)
    }

    /// An operation on a socket that was already closed.
    static func closed(_ call: String) -> ZeroMQError {
        ZeroMQError(code: ENOTSOCK, message: "the socket is closed", call: call)
    }

    /// `EAGAIN`: nothing could be sent or received without blocking (or a send/receive timeout expired).
    public var isWouldBlock: Bool { code == EAGAIN }
    /// `EHOSTUNREACH`: a ROUTER with `routerMandatory` was asked to send to a routing id it does not know.
    public var isHostUnreachable: Bool { code == EHOSTUNREACH }
    /// `EINTR`: a signal interrupted a blocking call.
    public var isInterrupted: Bool { code == EINTR }
    /// `ENOTSOCK`: the socket was closed.
    public var isClosed: Bool { code == ENOTSOCK }

    public var description: String { "\(call): \(message) (errno \(code))" }
}
