import Checkpoint
import Foundation
import LetheTesting
import NN
import ONNX

/// The fixtures `scripts/onnx_fixture.py` exported from PyTorch (committed under Tests/ONNXTests/Fixtures).
enum ONNXFixtures {
    static let directory = Fixtures.packageRoot.appendingPathComponent("Tests/ONNXTests/Fixtures")

    static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    static func bytes(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: directory.appendingPathComponent(name)))
    }

    static func values(_ name: String) throws -> SafetensorsFile {
        try SafetensorsFile(contentsOf: directory.appendingPathComponent(name))
    }

    static func model(_ name: String) throws -> Model { try ModelSpec.build(path(name), seed: 0) }
}
