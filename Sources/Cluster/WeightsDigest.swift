import Crypto
import Foundation
import NN
import Tensor

/// The version of a weights replica: SHA-256 over every state tensor's name, shape and bits, in order.
public enum WeightsDigest {
    public static func sha256(_ state: [(name: String, tensor: Tensor)]) -> String {
        var hasher = SHA256()
        for (name, tensor) in state {
            hasher.update(data: Data(name.utf8))
            hasher.update(data: Data(tensor.shape.map(String.init).joined(separator: ",").utf8))
            tensor.withUnsafeBufferPointer { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
        }
        return hasher.finalize().hex
    }

    public static func sha256(_ model: Model) -> String { sha256(model.stateDict()) }
}
