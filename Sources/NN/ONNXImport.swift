import ONNX
import Tensor

/// Builds an engine `Model` from a decoded ONNX graph: each node becomes an engine layer or graph operation
/// (`ONNXImport+Operators.swift`), the weights are the graph's initializers under their own names (PyTorch's
/// `state_dict` names) and the nodes run as a `GraphLayer`.
public enum ONNXImport {
    /// The operators Lethe runs, for refusals.
    public static let supportedOperators = [
        "Conv", "BatchNormalization", "Relu", "LeakyRelu", "Sigmoid", "MaxPool", "AveragePool", "GlobalAveragePool",
        "Gemm", "MatMul", "Add", "Sub", "Mul", "Div", "Concat", "Flatten", "Reshape", "Identity", "Dropout", "Constant",
    ]

    /// The graph as an engine model: its one output must be [N, classes] logits.
    public static func model(_ onnx: ONNXModel, architecture: String) throws(ONNXError) -> Model {
        let graph = try layer(onnx)
        guard graph.outputShape.count == 1 else {
            throw .invalidGraph("the output has per-sample shape \(graph.outputShape); expected [classes] logits")
        }
        return Model(
            architecture: architecture, inputShape: onnx.graph.input.sampleShape, classCount: graph.outputShape[0],
            root: Sequential([(name: nil, layer: graph.layer)]))
    }

    /// The graph as one layer, with the per-sample shape of its output (any shape).
    public static func layer(_ onnx: ONNXModel) throws(ONNXError) -> (layer: GraphLayer, outputShape: [Int]) {
        var builder = ONNXGraphBuilder(onnx)
        for (index, node) in onnx.graph.nodes.enumerated() { try builder.add(node, index: index) }
        return try builder.layer()
    }
}

/// The state of an import in progress: the values computed so far (with their per-sample shapes), the constants,
/// and which initializers already became model state.
struct ONNXGraphBuilder {
    let graph: ONNXGraph
    let opset: Int
    private let initializers: [String: ONNXTensor]
    private let consumed: Set<String>
    private var constants: [String: ONNXTensor] = [:]
    private var values: [String: (index: Int, shape: [Int])]
    private var claimed: Set<String> = []
    private(set) var steps: [GraphLayer.Step] = []

    init(_ model: ONNXModel) {
        graph = model.graph
        opset = model.opsetVersion
        initializers = Dictionary(graph.initializers.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        consumed = Set(graph.nodes.flatMap(\.inputs) + graph.outputs)
        values = [graph.input.name: (0, graph.input.sampleShape)]
    }

    mutating func add(_ node: ONNXNode, index: Int) throws(ONNXError) {
        guard ["", "ai.onnx"].contains(node.domain) else {
            throw node.unsupported("operators of domain '\(node.domain)' are not supported", opset: opset)
        }
        guard let output = node.outputs.first, !output.isEmpty else { throw node.invalid("the node has no output") }
        if node.opType == "Constant" {
            constants[output] = try constantValue(node)
            return
        }
        if let extra = node.outputs.dropFirst().first(where: { !$0.isEmpty && consumed.contains($0) }) {
            throw node.unsupported("only its first output can be used, but '\(extra)' is read", opset: opset)
        }
        let (operation, inputs, shape) = try operation(for: node, index: index)
        let value = steps.count + 1
        steps.append(GraphLayer.Step(operation: operation, inputs: inputs, output: value, name: output))
        values[output] = (value, shape)
    }

    func layer() throws(ONNXError) -> (layer: GraphLayer, outputShape: [Int]) {
        guard graph.outputs.count == 1, let name = graph.outputs.first else {
            throw .invalidGraph(
                "the graph has \(graph.outputs.count) outputs; Lethe trains graphs with one (the logits)")
        }
        guard let output = values[name], output.index > 0 else {
            throw .invalidGraph("the output '\(name)' is not computed from the input")
        }
        let order = Dictionary(
            graph.initializers.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { a, _ in a })
        return (GraphLayer(steps: steps, outputValue: output.index, stateOrder: order), output.shape)
    }

    // MARK: Reading a node's inputs

    /// A value computed from the graph input (its index and per-sample shape).
    func computed(_ node: ONNXNode, _ position: Int) throws(ONNXError) -> (index: Int, shape: [Int]) {
        guard position < node.inputs.count else { throw node.invalid("input \(position) is missing") }
        let name = node.inputs[position]
        guard let value = values[name] else {
            throw node.unsupported(
                "input '\(name)' must be computed from the graph input, not a constant", opset: opset)
        }
        return value
    }

    /// A constant input (a `Constant` node's value or an initializer), nil when the input is absent or computed.
    func constant(_ node: ONNXNode, _ position: Int) -> ONNXTensor? {
        guard position < node.inputs.count, !node.inputs[position].isEmpty else { return nil }
        let name = node.inputs[position]
        return constants[name] ?? initializers[name]
    }

    func isComputed(_ name: String) -> Bool { values[name] != nil }

    func isInitializer(_ name: String) -> Bool { initializers[name] != nil && constants[name] == nil }

    /// An initializer that becomes model state under its own name; each may serve one node only.
    mutating func parameter(_ node: ONNXNode, _ position: Int, shape expected: [Int]? = nil) throws(ONNXError) -> (
        name: String, tensor: Tensor
    ) {
        guard position < node.inputs.count, let tensor = initializers[node.inputs[position]] else {
            throw node.unsupported("input \(position) must be an initializer (a weight)", opset: opset)
        }
        guard case .floats = tensor.values else { throw node.invalid("weight '\(tensor.name)' is not floating point") }
        if let expected, tensor.shape != expected {
            throw node.invalid("weight '\(tensor.name)' has shape \(tensor.shape), expected \(expected)")
        }
        guard claimed.insert(tensor.name).inserted else {
            throw node.unsupported("weight '\(tensor.name)' is shared with another node (tied weights)", opset: opset)
        }
        return (tensor.name, tensor.floatTensor)
    }

    private func constantValue(_ node: ONNXNode) throws(ONNXError) -> ONNXTensor {
        let name = node.outputs[0]
        switch (node.attributes["value"], node.attributes["value_float"], node.attributes["value_int"]) {
        case (.tensor(let tensor)?, _, _): return ONNXTensor(name: name, shape: tensor.shape, values: tensor.values)
        case (_, .float(let value)?, _): return ONNXTensor(name: name, shape: [], values: .floats([value]))
        case (_, _, .int(let value)?): return ONNXTensor(name: name, shape: [], values: .integers([value]))
        default:
            switch (node.attributes["value_floats"], node.attributes["value_ints"]) {
            case (.floats(let values)?, _):
                return ONNXTensor(name: name, shape: [values.count], values: .floats(values))
            case (_, .ints(let values)?):
                return ONNXTensor(name: name, shape: [values.count], values: .integers(values))
            default: throw node.unsupported("a Constant without a tensor, float or integer value", opset: opset)
            }
        }
    }
}
