import Foundation
import NN
import Tensor

/// The version of a weights replica: XXH64 over every state tensor's name, shape and bits, in order (16 hex
/// digits). It only tells replicas apart (CURVE vouches for who sent the weights), so it need not be
/// cryptographic; the coordinator and every worker hash the weights on each step's critical path, where XXH64
/// is several times faster than SHA-256.
public enum WeightsVersion {
    public static func of(_ state: [(name: String, tensor: Tensor)]) -> String {
        var outline: [UInt8] = []
        for (name, tensor) in state {
            outline += Array(name.utf8) + [0]
            outline += Array(tensor.shape.map(String.init).joined(separator: ",").utf8) + [0]
            let bits = tensor.withUnsafeBufferPointer { XXH64.hash(UnsafeRawBufferPointer($0)) }
            withUnsafeBytes(of: bits.littleEndian) { outline += $0 }
        }
        let digest = outline.withUnsafeBytes { XXH64.hash($0) }
        return String(digest, radix: 16).leftPadded(to: 16)
    }

    public static func of(_ model: Model) -> String { of(model.stateDict()) }
}

extension String {
    fileprivate func leftPadded(to length: Int) -> String {
        String(repeating: "0", count: max(0, length - count)) + self
    }
}
