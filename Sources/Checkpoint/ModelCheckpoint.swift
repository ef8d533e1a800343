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
        try read(url, into: model).metadata
    }

    /// Loads the file at `url` into `model` as `load` does, and says what loading filled in. Forgiving where PyTorch
    /// is: a BatchNorm `num_batches_tracked` the file lacks (PyTorch's `load_state_dict` accepts such files) counts
    /// from 0. Anything else missing, unexpected or mis-shaped is refused, every tensor named.
    public static func read(_ url: URL, into model: Model) throws(LoadError) -> LoadedCheckpoint {
        if let graph = ONNXWeights.state(at: url) {
            return try read(graph, path: url.path, into: model)
        }
        let file: SafetensorsFile
        do {
            file = try SafetensorsFile(contentsOf: url)
        } catch {
            throw .file(error)
        }
        return try read(file, path: url.path, into: model)
    }

    /// Loads a checkpoint's bytes (a blob; `source` names it) as `read(_:into:)` loads a file, so that a worker
    /// forgives what the submitting command forgave.
    public static func read(_ data: Data, source: String, into model: Model) throws(LoadError) -> LoadedCheckpoint {
        if let graph = ONNXWeights.state(in: [UInt8](data)) { return try read(graph, path: source, into: model) }
        let file: SafetensorsFile
        do {
            file = try SafetensorsFile(data: data, source: source)
        } catch {
            throw .file(error)
        }
        return try read(file, path: source, into: model)
    }

    private static func read(_ file: SafetensorsFile, path: String, into model: Model) throws(LoadError)
        -> LoadedCheckpoint
    {
        try read(
            file.entries.map { (name: $0.name, tensor: $0.tensor) }, metadata: file.metadata, path: path, into: model)
    }

    /// An ONNX file's weights: its initializers that are model state (not shape constants), no metadata.
    private static func read(_ graph: [(name: String, tensor: Tensor)], path: String, into model: Model)
        throws(LoadError) -> LoadedCheckpoint
    {
        let names = Set(model.stateDict().map(\.name))
        return try read(graph.filter { names.contains($0.name) }, metadata: [:], path: path, into: model)
    }

    private static func read(
        _ state: [(name: String, tensor: Tensor)], metadata: [String: String], path: String, into model: Model
    ) throws(LoadError) -> LoadedCheckpoint {
        var tensors = state
        let given = Set(tensors.map(\.name))
        let counters = model.stateDict().filter { $0.name.hasSuffix("num_batches_tracked") && !given.contains($0.name) }
        tensors += counters.map { (name: $0.name, tensor: Tensor(zeros: $0.tensor.shape)) }
        do {
            try model.load(stateDict: tensors)
        } catch {
            throw .mismatch(path: path, error)
        }
        let notes =
            counters.isEmpty
            ? []
            : [
                "\(path) has no \(counters.map(\.name).joined(separator: ", ")) (PyTorch loads such files too): "
                    + "counted from 0"
            ]
        return LoadedCheckpoint(metadata: metadata, notes: notes)
    }
}

/// A checkpoint loaded into a model: the file's metadata and what loading filled in (one sentence each).
public struct LoadedCheckpoint: Sendable {
    public let metadata: [String: String]
    public let notes: [String]
}
