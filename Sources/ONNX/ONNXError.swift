/// Why an ONNX file cannot be imported. Each case names what was wrong so the message can say how to fix it.
public enum ONNXError: Error, Equatable, CustomStringConvertible {
    /// The bytes are not a protobuf `onnx.ModelProto` (truncated, corrupted or not ONNX at all).
    case malformed(String)
    /// A size beyond what Lethe accepts (file bytes, tensor elements, node or initializer counts).
    case tooLarge(String)
    /// A tensor keeps its data in a separate file (`save_as_external_data`), which Lethe does not read.
    case externalData(tensor: String)
    /// A tensor's element type Lethe does not read.
    case unsupportedDataType(tensor: String, dataType: Int)
    /// A tensor whose data does not match its shape.
    case badTensor(tensor: String, reason: String)
    /// A node reads a value that no node, initializer or graph input defines.
    case missingValue(node: String, value: String)
    /// Two definitions of one value name, or a cycle among the nodes.
    case invalidGraph(String)
    /// A graph with no runtime input, several, or one without a fixed per-sample shape.
    case badInput(String)
    /// An operator Lethe does not implement (or an attribute value it does not support), naming the node.
    case unsupportedOperator(node: String, opType: String, opset: Int, reason: String)
    /// A node's inputs or attributes do not fit together (shapes, missing attributes).
    case invalidNode(node: String, opType: String, reason: String)

    public var description: String {
        switch self {
        case .malformed(let reason): "not a valid ONNX model: \(reason)"
        case .tooLarge(let reason): "ONNX model too large: \(reason)"
        case .externalData(let tensor):
            "tensor '\(tensor)' keeps its data in an external file; export with the weights inside the .onnx file "
                + "(torch.onnx.export without external_data, or onnx.save(model, path, save_as_external_data=False))"
        case .unsupportedDataType(let tensor, let dataType):
            "tensor '\(tensor)' has ONNX data type \(dataType); Lethe reads float, double, integer and bool tensors"
        case .badTensor(let tensor, let reason): "tensor '\(tensor)': \(reason)"
        case .missingValue(let node, let value):
            "node '\(node)' reads '\(value)', which no node, initializer or graph input defines"
        case .invalidGraph(let reason): "invalid ONNX graph: \(reason)"
        case .badInput(let reason): "ONNX graph input: \(reason)"
        case .unsupportedOperator(let node, let opType, let opset, let reason):
            "node '\(node)': \(opType) (opset \(opset)) is not supported: \(reason)"
        case .invalidNode(let node, let opType, let reason): "node '\(node)' (\(opType)): \(reason)"
        }
    }
}
