import Foundation
import NN
import Transport

extension ModelOptions {
    /// The architecture as the coordinator and its workers will name it: a `.onnx` graph or `.json` architecture
    /// is uploaded like the data and checkpoints and named by its hash (`onnx:<sha256>`, `json:<sha256>`), so every
    /// process builds the same model without the file being on its disk.
    func architecture(uploadingWith client: ControlClient) async throws -> String {
        guard let kind = ModelFiles.fileKind(of: model) else { return model }
        let file = try Data(contentsOf: URL(fileURLWithPath: model))
        return ModelFiles.architecture(kind, sha256: try await client.upload(file, kind: "\(kind.rawValue)-model"))
    }
}
