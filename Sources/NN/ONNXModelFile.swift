import Foundation
import ONNX

/// `--model model.onnx`: a graph exported from PyTorch, run by the engine with the file's initializers as its
/// starting weights (so a model built from it, whatever the seed, is the exported network). The model is named by
/// content, `onnx:<sha256>`, as the coordinator and workers name it, so checkpoints and reports written locally
/// and on a cluster are the same bytes; the file is remembered under that name for the rest of the process.
public enum ONNXModelFile {
    public static func load(_ path: String) throws(ModelSpecError) -> Model {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .unknown("cannot read ONNX file \(path)")
        }
        let bytes = [UInt8](data)
        let sha256 = sha256Hex(bytes)
        let model = try model(bytes: bytes, architecture: ModelFiles.architecture(.onnx, sha256: sha256), source: path)
        ModelFiles.remember(bytes, sha256: sha256)
        return model
    }

    /// The model of a graph file's bytes; `source` names the file in refusals.
    public static func model(bytes: [UInt8], architecture: String, source: String) throws(ModelSpecError) -> Model {
        do {
            return try ONNXImport.model(try ONNXDecoder.decode(bytes), architecture: architecture)
        } catch {
            throw .invalid("\(source): \(error)")
        }
    }
}
