import Foundation
import Tensor

/// How a model is named on the command line: a built-in (`fmnist-cnn[:regression=K]`, `fmnist-mlp[:regression=K]`
/// — with `regression=K` a regression head of K outputs —, `resnet18[:width=W,classes=K,channels=C,size=S]`) or the path of a JSON architecture file for a
/// sequential model:
///
///     {"name": "small-cnn", "input": [1, 28, 28], "layers": [
///       {"type": "conv2d", "name": "conv1", "in": 1, "out": 16, "kernel": 3, "padding": 1},
///       {"type": "relu"}, {"type": "maxpool2d", "kernel": 2}, {"type": "flatten"},
///       {"type": "linear", "name": "fc", "in": 3136, "out": 10}]}
///
/// Layer types: conv2d (in, out, kernel, stride, padding, bias), linear (in, out, bias), batchnorm2d
/// (channels), relu, maxpool2d (kernel, stride, padding), avgpool (global), flatten, dropout (p).
///
/// A `.onnx` file (`torch.onnx.export`) is imported as a graph model whose weights are the file's initializers
/// (`ONNXModelFile`). Jobs name both kinds of file by content, `onnx:<sha256>` and `json:<sha256>` (`ModelFiles`).
public enum ModelSpec {
    public static func build(_ spec: String, seed: UInt64) throws(ModelSpecError) -> Model {
        let (name, options) = splitOptions(spec)
        if ModelZoo.builtInNames.contains(name) { try options.checkKnown(knownOptions[name] ?? [], model: name) }
        switch name {
        case "fmnist-cnn": return ModelZoo.fmnistCNN(seed: seed, regressionOutputs: try options.int("regression"))
        case "fmnist-mlp": return ModelZoo.fmnistMLP(seed: seed, regressionOutputs: try options.int("regression"))
        case "resnet18":
            let size = try options.int("size") ?? 32
            return ModelZoo.resnet18(
                seed: seed, width: try options.int("width") ?? 64, classes: try options.int("classes") ?? 10,
                inputShape: [try options.int("channels") ?? 3, size, size])
        default:
            if spec.hasSuffix(".onnx") { return try ONNXModelFile.load(spec) }
            if ModelFiles.named(spec) != nil { return try ModelFiles.model(spec, seed: seed) }
            guard spec.hasSuffix(".json") else {
                throw .unknown(
                    "unknown model '\(spec)': use one of \(ModelZoo.builtInNames.joined(separator: ", ")), a .json architecture file or a .onnx graph"
                )
            }
            guard let data = FileManager.default.contents(atPath: spec) else {
                throw .unknown("cannot read architecture file \(spec)")
            }
            let model = try SequentialSpec.build(data, source: spec, seed: seed)
            // Jobs name the file by content (`json:<sha256>`): it resolves in this process too (a federated client).
            ModelFiles.remember([UInt8](data), sha256: sha256Hex(data))
            return model
        }
    }

    private static func splitOptions(_ spec: String) -> (String, Options) {
        guard ModelFiles.fileKind(of: spec) == nil, ModelFiles.named(spec) == nil,
            let colon = spec.firstIndex(of: ":")
        else {
            return (spec, Options(pairs: [:]))
        }
        var pairs: [String: String] = [:]
        for item in spec[spec.index(after: colon)...].split(separator: ",") {
            let parts = item.split(separator: "=", maxSplits: 1)
            pairs[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
        }
        return (String(spec[..<colon]), Options(pairs: pairs))
    }

    /// The options each built-in takes after a colon (`resnet18:width=8`).
    static let knownOptions: [String: [String]] = [
        "resnet18": ["width", "classes", "channels", "size"], "fmnist-cnn": ["regression"],
        "fmnist-mlp": ["regression"],
    ]

    struct Options {
        let pairs: [String: String]

        /// Refuses options `model` does not take, naming them and the ones it does.
        func checkKnown(_ known: [String], model: String) throws(ModelSpecError) {
            let unknown = pairs.keys.filter { !known.contains($0) }.sorted()
            guard !unknown.isEmpty else { return }
            let takes = known.isEmpty ? "takes no options" : "takes \(known.joined(separator: ", "))"
            throw .invalid(
                "unknown model option\(unknown.count == 1 ? "" : "s") \(unknown.joined(separator: ", ")) for \(model) "
                    + "(\(model) \(takes))")
        }

        func int(_ key: String) throws(ModelSpecError) -> Int? {
            guard let text = pairs[key] else { return nil }
            guard let value = Int(text), value > 0 else {
                throw .invalid("model option \(key)=\(text) must be a positive integer")
            }
            return value
        }
    }
}

public enum ModelSpecError: Error, CustomStringConvertible, Equatable {
    case unknown(String)
    case invalid(String)

    public var description: String {
        switch self {
        case .unknown(let message), .invalid(let message): message
        }
    }
}
