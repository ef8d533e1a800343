import Foundation
import NN
import Transport

extension ModelOptions {
    /// The architecture as the coordinator and its workers will name it: a `.onnx` graph is uploaded like the
    /// data and checkpoints and named by its hash (`onnx:<sha256>`), so every process builds the same graph.
    func architecture(uploadingWith client: ControlClient) async throws -> String {
        guard model.hasSuffix(".onnx") else { return model }
        let graph = try Data(contentsOf: URL(fileURLWithPath: model))
        return ONNXGraphs.architecture(sha256: try await client.upload(graph, kind: "onnx-graph"))
    }
}
