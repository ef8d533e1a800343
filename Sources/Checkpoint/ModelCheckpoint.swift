import Foundation
import NN
import Tensor

/// Saves and loads a model's `state_dict` as safetensors, the way PyTorch users exchange them
/// (`safetensors.torch.save_file(model.state_dict(), path)`).
public enum ModelCheckpoint {
    /// Why a checkpoint could not be loaded into a model.
    public enum LoadError: Error, CustomStringConvertible {
        case file(SafetensorsError)
        case mismatch(path: String, StateDictMismatch)

        public var description: String {
            switch self {
            case .file(let error): "\(error)"
            case .mismatch(let path, let mismatch): "\(path): \(mismatch)"
            }
        }
    }

    /// Writes the model's state atomically. BatchNorm's `num_batches_tracked` is stored as I64, as PyTorch
    /// stores it, and those 8-byte tensors come first so every tensor is aligned to its size (as PyTorch's
    /// writer does, for loaders that map tensors in place).
    public static func save(_ model: Model, to url: URL, metadata: [String: String] = [:]) throws(SafetensorsError) {
        var file = SafetensorsFile(metadata: metadata.merging(["architecture": model.architecture]) { a, _ in a })
        let state = model.stateDict()
        let isCounter = { (name: String) in name.hasSuffix("num_batches_tracked") }
        for (name, tensor) in state where isCounter(name) { file.append(name: name, tensor: tensor, dtype: .i64) }
        for (name, tensor) in state where !isCounter(name) { file.append(name: name, tensor: tensor) }
        try file.write(to: url)
    }

    /// Loads the file at `url` into `model`, refusing (and changing nothing) unless it fits exactly.
    /// Returns the file's metadata.
    @discardableResult
    public static func load(_ url: URL, into model: Model) throws(LoadError) -> [String: String] {
        let file: SafetensorsFile
        do {
            file = try SafetensorsFile(contentsOf: url)
        } catch {
            throw .file(error)
        }
        do {
            try model.load(stateDict: file.entries.map { (name: $0.name, tensor: $0.tensor) })
        } catch {
            throw .mismatch(path: url.path, error)
        }
        return file.metadata
    }
}
