import Checkpoint
import Foundation
import Tensor

/// The team's shared PyTorch reference values (`../shared/fixtures/torch-parity/`, see its README).
public enum Fixtures {
    /// The package root, found from this file's path.
    public static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    public static let torchParityDirectory =
        packageRoot
        .appendingPathComponent("../shared/fixtures/torch-parity").standardizedFileURL

    /// A PyTorch user's model, trained on `ToTensor()` inputs and exported with safetensors
    /// (`scripts/byom_fixture.py`; committed under `Tests/Fixtures/bring-your-model`).
    public static let bringYourModelDirectory = packageRoot.appendingPathComponent("Tests/Fixtures/bring-your-model")

    /// A file of the bring-your-own-model fixture, e.g. `bringYourModel("small-bn-cnn.json")`.
    public static func bringYourModel(_ name: String) -> String {
        bringYourModelDirectory.appendingPathComponent(name).path
    }

    /// One fixture file, e.g. `torchParity("linear")`.
    public static func torchParity(_ name: String) throws -> SafetensorsFile {
        try SafetensorsFile(contentsOf: torchParityDirectory.appendingPathComponent("\(name).safetensors"))
    }
}

extension SafetensorsFile {
    /// The tensor called `name`, or a test failure naming what is missing.
    public func required(_ name: String) throws -> Tensor {
        guard let tensor = self[name] else { throw FixtureError.missing(name) }
        return tensor
    }

    /// Entries whose names start with `prefix`, with the prefix removed, in file order.
    public func stripping(prefix: String) -> [(name: String, tensor: Tensor)] {
        entries.filter { $0.name.hasPrefix(prefix) }.map {
            (name: String($0.name.dropFirst(prefix.count)), tensor: $0.tensor)
        }
    }
}

public enum FixtureError: Error, CustomStringConvertible {
    case missing(String)
    public var description: String {
        switch self {
        case .missing(let name): "fixture tensor \(name) is missing"
        }
    }
}
