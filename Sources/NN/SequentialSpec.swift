import Foundation
import Tensor

/// Builds a sequential model from a JSON architecture file, checking every layer's shape on the way.
enum SequentialSpec {
    struct File: Decodable {
        let name: String?
        let input: [Int]
        let layers: [LayerSpec]
        /// "classification" (the default: the outputs are class scores) or "regression" (the outputs are values).
        let head: String?
    }

    struct LayerSpec: Decodable {
        let type: String
        let name: String?
        let `in`: Int?
        let out: Int?
        let kernel: Int?
        let stride: Int?
        let padding: Int?
        let bias: Bool?
        let channels: Int?
        let p: Float?
    }

    /// The keys the file and each layer type take; any other key is refused by name rather than ignored.
    static let fileKeys: Set = ["name", "input", "layers", "head"]
    static let layerKeys: [String: [String]] = [
        "conv2d": ["in", "out", "kernel", "stride", "padding", "bias"], "linear": ["in", "out", "bias"],
        "batchnorm2d": ["channels"], "maxpool2d": ["kernel", "stride", "padding"], "avgpool": [], "relu": [],
        "flatten": [], "dropout": ["p"],
    ]

    /// The keys of the file's object and of each of its layers (the file has already decoded as a `File`).
    private static func keysOf(_ data: Data) -> (file: Set<String>, layers: [Set<String>]) {
        let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        let layers = (object["layers"] as? [Any] ?? []).map { Set(($0 as? [String: Any] ?? [:]).keys) }
        return (Set(object.keys), layers)
    }

    private static func refuseUnknown(_ keys: Set<String>, at place: String, takes: [String]) throws(ModelSpecError) {
        guard !keys.isEmpty else { return }
        let names = keys.sorted().map { "\"\($0)\"" }.joined(separator: ", ")
        throw .invalid(
            "\(place): unknown key\(keys.count == 1 ? "" : "s") \(names) (it takes \(takes.joined(separator: ", ")))")
    }

    static func build(_ data: Data, source: String, seed: UInt64) throws(ModelSpecError) -> Model {
        let file: File
        do {
            file = try JSONDecoder().decode(File.self, from: data)
        } catch {
            throw .invalid("\(source): not a valid architecture file: \(error)")
        }
        let keys = keysOf(data)
        try refuseUnknown(keys.file.subtracting(fileKeys), at: source, takes: fileKeys.sorted())
        guard file.input.count == 3 || file.input.count == 1, file.input.allSatisfy({ $0 > 0 }) else {
            throw .invalid("\(source): \"input\" must be [C, H, W] or [features]")
        }
        var generator = SeededGenerator(seed: seed, stream: "init")
        var shape = file.input
        var children: [(name: String?, layer: Layer)] = []
        for (index, spec) in file.layers.enumerated() {
            let at = "\(source): layer \(index) (\(spec.type)\(spec.name.map { " '\($0)'" } ?? ""))"
            func need(_ value: Int?, _ key: String) throws(ModelSpecError) -> Int {
                guard let value, value > 0 else { throw .invalid("\(at) needs a positive \"\(key)\"") }
                return value
            }
            func needImage() throws(ModelSpecError) {
                guard shape.count == 3 else { throw .invalid("\(at) needs image input [C, H, W], has \(shape)") }
            }
            if let known = layerKeys[spec.type], index < keys.layers.count {
                let takes = ["type", "name"] + known
                try refuseUnknown(keys.layers[index].subtracting(takes), at: at, takes: takes)
            }
            let layer: Layer
            switch spec.type {
            case "conv2d":
                try needImage()
                let (inC, outC, k) = (
                    try need(spec.in, "in"), try need(spec.out, "out"), try need(spec.kernel, "kernel")
                )
                let (stride, padding) = (spec.stride ?? 1, spec.padding ?? 0)
                guard inC == shape[0] else { throw .invalid("\(at) expects \(inC) input channels, gets \(shape[0])") }
                guard stride > 0, padding >= 0, shape[1] + 2 * padding >= k, shape[2] + 2 * padding >= k else {
                    throw .invalid("\(at): kernel \(k) does not fit input \(shape) with padding \(padding)")
                }
                layer = Conv2d(
                    inC, outC, kernel: k, stride: stride, padding: padding, bias: spec.bias ?? true, using: &generator)
                shape =
                    [outC]
                    + shape.dropFirst().map { slidingOutputSize($0, kernel: k, stride: stride, padding: padding) }
            case "linear":
                let (inF, outF) = (try need(spec.in, "in"), try need(spec.out, "out"))
                guard shape == [inF] else { throw .invalid("\(at) expects \(inF) features, gets shape \(shape)") }
                layer = Linear(inF, outF, bias: spec.bias ?? true, using: &generator)
                shape = [outF]
            case "batchnorm2d":
                try needImage()
                guard try need(spec.channels, "channels") == shape[0] else {
                    throw .invalid("\(at): channels must be \(shape[0])")
                }
                layer = BatchNorm2d(shape[0])
            case "maxpool2d":
                try needImage()
                let k = try need(spec.kernel, "kernel")
                let (stride, padding) = (spec.stride ?? k, spec.padding ?? 0)
                guard stride > 0, 2 * padding <= k, shape[1] + 2 * padding >= k, shape[2] + 2 * padding >= k else {
                    throw .invalid("\(at): window \(k) does not fit input \(shape)")
                }
                layer = MaxPool2d(kernel: k, stride: stride, padding: padding)
                shape =
                    [shape[0]]
                    + shape.dropFirst().map { slidingOutputSize($0, kernel: k, stride: stride, padding: padding) }
            case "avgpool":
                try needImage()
                layer = AdaptiveAvgPool2d()
                shape = [shape[0], 1, 1]
            case "relu": layer = ReLU()
            case "flatten":
                layer = Flatten()
                shape = [shape.reduce(1, *)]
            case "dropout":
                guard let p = spec.p ?? 0.5 as Float?, p >= 0, p < 1 else {
                    throw .invalid("\(at): p must be in [0, 1)")
                }
                layer = Dropout(probability: p, salt: UInt64(index))
            default:
                throw .invalid(
                    "\(at): unknown layer type (conv2d, linear, batchnorm2d, relu, maxpool2d, avgpool, flatten, dropout)"
                )
            }
            let hasState = !layer.namedState.isEmpty
            guard !hasState || spec.name != nil else { throw .invalid("\(at) has parameters and needs a \"name\"") }
            children.append((name: hasState ? spec.name : nil, layer: layer))
        }
        guard shape.count == 1 else {
            throw .invalid("\(source): the last layer must output class scores or values, has shape \(shape)")
        }
        let head: ModelHead
        switch file.head ?? "classification" {
        case "classification": head = .classification
        case "regression": head = .regression(outputs: shape[0])
        case let other:
            throw .invalid("\(source): \"head\" is \"classification\" or \"regression\", not \"\(other)\"")
        }
        return Model(
            architecture: file.name ?? source, inputShape: file.input, classCount: shape[0], root: Sequential(children),
            head: head)
    }
}
