import Foundation
import Tensor

#if !_endian(little)
    #error("tensor frames are little-endian float32; add byte swapping for big-endian hosts")
#endif

/// The bytes of one outgoing frame, owned until the transport has sent them (so it can send without copying).
public final class FramePayload: @unchecked Sendable {
    public let bytes: UnsafeMutableRawBufferPointer

    public init(count: Int) {
        bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 16)
    }

    public var count: Int { bytes.count }

    public convenience init(_ values: [UInt8]) {
        self.init(count: values.count)
        if !values.isEmpty { bytes.copyBytes(from: values) }
    }

    public convenience init(_ tensor: Tensor) {
        self.init(count: tensor.count * MemoryLayout<Float>.size)
        if tensor.count > 0 {
            tensor.withUnsafeBufferPointer { bytes.copyMemory(from: UnsafeRawBufferPointer($0)) }
        }
    }

    deinit { bytes.deallocate() }

    /// The bytes as an array (tests and small frames).
    public var array: [UInt8] { Array(UnsafeRawBufferPointer(bytes)) }
}
