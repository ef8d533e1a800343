import CZeroMQ

/// One part of an outbound multipart message: bytes copied in, or a buffer sent without copying.
public struct Frame: @unchecked Sendable {  // the borrowed pointer is immutable and kept valid by its Sendable owner
    enum Storage {
        case bytes([UInt8])
        case borrowed(UnsafeRawBufferPointer, owner: any AnyObject & Sendable)
    }

    let storage: Storage

    /// A frame holding a copy of `bytes`.
    public init(_ bytes: [UInt8]) {
        storage = .bytes(bytes)
    }

    /// A frame holding the UTF-8 bytes of `text` (no terminating NUL).
    public init(_ text: String) {
        storage = .bytes(Array(text.utf8))
    }

    /// A zero-copy frame: libzmq reads `bytes` in place, for as long as it needs them.
    ///
    /// `owner` must keep `bytes` allocated and unchanged until it is released. The frame retains it; once sent,
    /// libzmq releases it when the bytes are no longer needed (after transmission, or for inproc once the receiver
    /// has read them), on whichever thread that happens. If the frame is never sent, the owner is released with
    /// the frame.
    public init(noCopy bytes: UnsafeRawBufferPointer, owner: any AnyObject & Sendable) {
        storage = .borrowed(bytes, owner: owner)
    }

    /// The frame's length in bytes.
    public var count: Int {
        switch storage {
        case .bytes(let bytes): bytes.count
        case .borrowed(let buffer, _): buffer.count
        }
    }

    /// A copy of the frame's bytes.
    public var bytes: [UInt8] {
        switch storage {
        case .bytes(let bytes): bytes
        case .borrowed(let buffer, _): Array(buffer)
        }
    }

    /// Initialises `message` with this frame's bytes; the caller sends or closes it.
    func initialize(_ message: Calls.MessagePointer) throws(ZeroMQError) {
        switch storage {
        case .bytes(let bytes):
            try Calls.zmq_msg_init_size(message, bytes.count)
            let destination = Calls.zmq_msg_data(message)
            bytes.withUnsafeBytes { destination.copyMemory(from: $0) }
        case .borrowed(let buffer, let owner):
            // libzmq hands `hint` back to the free function, which balances this retain.
            let hint = Unmanaged.passRetained(owner as AnyObject).toOpaque()
            do {
                try Calls.zmq_msg_init_data(message, buffer, releaseOwner, hint)
            } catch {
                Unmanaged<AnyObject>.fromOpaque(hint).release()  // on failure libzmq never calls the free function
                throw error
            }
        }
    }
}

/// libzmq's free function for zero-copy frames: releases the owner retained in `Frame.initialize`.
private func releaseOwner(_ data: UnsafeMutableRawPointer?, _ hint: UnsafeMutableRawPointer?) {
    guard let hint else { return }
    Unmanaged<AnyObject>.fromOpaque(hint).release()
}
