import Foundation
import ONNX
import Tensor

/// `--weights model.onnx`: the weights an ONNX file carries (its floating-point initializers, under their
/// `state_dict` names), read where a safetensors checkpoint is expected.
enum ONNXWeights {
    /// The initializers of `bytes` when they are an ONNX model rather than safetensors (whose ninth byte opens its
    /// JSON header), nil otherwise.
    static func state(at url: URL) -> [(name: String, tensor: Tensor)]? {
        guard let handle = try? FileHandle(forReadingFrom: url) else { return nil }
        defer { try? handle.close() }
        guard let head = try? handle.read(upToCount: 9), head.count == 9, head.last != UInt8(ascii: "{"),
            let rest = try? handle.readToEnd()
        else { return nil }
        return state(in: [UInt8](head + rest))
    }

    static func state(in bytes: [UInt8]) -> [(name: String, tensor: Tensor)]? {
        guard bytes.count > 8, bytes[8] != UInt8(ascii: "{"), let model = try? ONNXDecoder.decode(bytes) else {
            return nil
        }
        return model.graph.initializers.compactMap { initializer in
            guard case .floats = initializer.values else { return nil }
            return (name: initializer.name, tensor: initializer.floatTensor)
        }
    }
}
