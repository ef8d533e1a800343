import Foundation
import ONNX

/// `--model model.onnx`: a graph exported from PyTorch, run by the engine with the file's initializers as its
/// starting weights (so a model built from it, whatever the seed, is the exported network).
public enum ONNXModelFile {
    public static func load(_ path: String) throws(ModelSpecError) -> Model {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .unknown("cannot read ONNX file \(path)")
        }
        return try model(bytes: [UInt8](data), architecture: path)
    }

    public static func model(bytes: [UInt8], architecture: String) throws(ModelSpecError) -> Model {
        do {
            return try ONNXImport.model(try ONNXDecoder.decode(bytes), architecture: architecture)
        } catch {
            throw .invalid("\(architecture): \(error)")
        }
    }
}
