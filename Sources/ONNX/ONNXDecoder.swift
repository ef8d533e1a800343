import CProtobufC
import ONNXProtoC

/// Turns the bytes of a `.onnx` file into a validated `ONNXModel`. The input is treated as hostile: sizes are
/// bounded before anything is allocated for them, and every problem is an `ONNXError`, never a crash.
public enum ONNXDecoder {
    public enum Limits {
        public static let fileBytes = 1 << 30
        public static let tensorElements = 1 << 28
        /// Elements of one input sample (3 × 2,048 × 2,048 fits): every activation of a batch scales with it.
        public static let sampleElements = 1 << 24
        public static let nodes = 100_000
        public static let initializers = 100_000
        public static let rank = 8
    }

    public static func decode(_ bytes: [UInt8]) throws(ONNXError) -> ONNXModel {
        guard bytes.count <= Limits.fileBytes else {
            throw .tooLarge("\(bytes.count) bytes exceeds the \(Limits.fileBytes)-byte limit")
        }
        guard !bytes.isEmpty else { throw .malformed("the file is empty") }
        let unpacked = bytes.withUnsafeBufferPointer { buffer in
            onnx__model_proto__unpack(nil, buffer.count, buffer.baseAddress)
        }
        guard let root = unpacked else { throw .malformed("not a protobuf onnx.ModelProto (truncated or corrupted?)") }
        defer { onnx__model_proto__free_unpacked(root, nil) }
        let model = root.pointee
        let opsets = array(model.opset_import, model.n_opset_import).compactMap { $0?.pointee }
        let defaultOpset = opsets.first { ["", "ai.onnx"].contains(string($0.domain)) }
        guard let defaultOpset, defaultOpset.has_version != 0, defaultOpset.version > 0 else {
            throw .malformed("no version of the default operator set (opset_import)")
        }
        guard let graph = model.graph?.pointee else { throw .malformed("the model has no graph") }
        return ONNXModel(
            irVersion: Int(model.ir_version), opsetVersion: Int(clamping: defaultOpset.version),
            producer: string(model.producer_name), graph: try decodeGraph(graph))
    }

    private static func decodeGraph(_ graph: Onnx__GraphProto) throws(ONNXError) -> ONNXGraph {
        guard graph.n_node <= Limits.nodes else { throw .tooLarge("\(graph.n_node) nodes") }
        guard graph.n_initializer <= Limits.initializers else {
            throw .tooLarge("\(graph.n_initializer) initializers")
        }
        var initializers: [ONNXTensor] = []
        for pointer in array(graph.initializer, graph.n_initializer) {
            guard let tensor = pointer?.pointee else { throw .malformed("an empty initializer") }
            initializers.append(try ONNXTensorDecoding.decode(tensor))
        }
        var nodes: [ONNXNode] = []
        for (index, pointer) in array(graph.node, graph.n_node).enumerated() {
            guard let node = pointer?.pointee else { throw .malformed("an empty node") }
            nodes.append(try decodeNode(node, index: index))
        }
        let initializerNames = Set(initializers.map(\.name))
        let runtimeInputs = array(graph.input, graph.n_input).compactMap { $0?.pointee }
            .filter { !initializerNames.contains(string($0.name)) }
        guard runtimeInputs.count == 1, let input = runtimeInputs.first else {
            throw .badInput(
                "the graph has \(runtimeInputs.count) runtime inputs; Lethe runs graphs with exactly one (the batch)")
        }
        let outputs = array(graph.output, graph.n_output).compactMap { $0?.pointee }.map { string($0.name) }
        guard !outputs.isEmpty else { throw .invalidGraph("the graph declares no output") }
        return try ONNXGraphValidation.validated(
            name: string(graph.name), input: (string(input.name), try sampleShape(input)), outputs: outputs,
            initializers: initializers, nodes: nodes)
    }

    /// The input's shape without its first (batch) dimension, which may be symbolic; every other dimension must
    /// be a fixed positive size.
    private static func sampleShape(_ input: Onnx__ValueInfoProto) throws(ONNXError) -> [Int] {
        let name = string(input.name)
        guard let type = input.type?.pointee, type.value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE,
            let tensorType = type.tensor_type?.pointee, let shape = tensorType.shape?.pointee
        else { throw .badInput("'\(name)' is not a tensor with a known shape") }
        guard tensorType.elem_type == 1 else {
            throw .badInput("'\(name)' has element type \(tensorType.elem_type); Lethe feeds float32 batches")
        }
        let dimensions = array(shape.dim, shape.n_dim).compactMap { $0?.pointee }
        guard (2...Limits.rank).contains(dimensions.count) else {
            throw .badInput("'\(name)' has rank \(dimensions.count); expected [N, features] or [N, C, H, W]")
        }
        var sample: [Int] = []
        for dimension in dimensions.dropFirst() {
            guard dimension.value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE,
                dimension.dim_value > 0, dimension.dim_value <= Limits.tensorElements
            else { throw .badInput("'\(name)' needs fixed positive sizes after the batch dimension") }
            sample.append(Int(dimension.dim_value))
        }
        var elements = 1
        for size in sample {
            let (product, overflow) = elements.multipliedReportingOverflow(by: size)
            guard !overflow, product <= Limits.sampleElements else {
                throw .tooLarge(
                    "input '\(name)' of shape \(sample) per sample (at most \(Limits.sampleElements) elements)")
            }
            elements = product
        }
        return sample
    }

    private static func decodeNode(_ node: Onnx__NodeProto, index: Int) throws(ONNXError) -> ONNXNode {
        let opType = string(node.op_type)
        guard !opType.isEmpty else { throw .malformed("node \(index) has no op_type") }
        let givenName = string(node.name)
        let name = givenName.isEmpty ? "#\(index) \(opType)" : givenName
        var attributes: [String: ONNXAttribute] = [:]
        for pointer in array(node.attribute, node.n_attribute) {
            guard let attribute = pointer?.pointee else { throw .malformed("node '\(name)' has an empty attribute") }
            attributes[string(attribute.name)] = try decodeAttribute(attribute, node: name)
        }
        return ONNXNode(
            name: name, opType: opType, domain: string(node.domain),
            inputs: array(node.input, node.n_input).map(string), outputs: array(node.output, node.n_output).map(string),
            attributes: attributes)
    }

    private static func decodeAttribute(_ attribute: Onnx__AttributeProto, node: String) throws(ONNXError)
        -> ONNXAttribute
    {
        switch attribute.type {
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT: return .float(attribute.f)
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT: return .int(Int(clamping: attribute.i))
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING:
            return .string(String(decoding: bytes(attribute.s), as: UTF8.self))
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR:
            guard let tensor = attribute.t?.pointee else {
                throw .malformed("node '\(node)': tensor attribute '\(string(attribute.name))' has no tensor")
            }
            return .tensor(try ONNXTensorDecoding.decode(tensor))
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS: return .floats(array(attribute.floats, attribute.n_floats))
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS:
            return .ints(array(attribute.ints, attribute.n_ints).map { Int(clamping: $0) })
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS:
            return .strings(
                array(attribute.strings, attribute.n_strings).map { String(decoding: bytes($0), as: UTF8.self) })
        default: return .unsupported(kind: Int(attribute.type.rawValue))
        }
    }

    static func string(_ pointer: UnsafeMutablePointer<CChar>?) -> String {
        pointer.map { String(cString: $0) } ?? ""
    }

    static func array<T>(_ pointer: UnsafeMutablePointer<T>?, _ count: Int) -> [T] {
        guard let pointer, count > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: pointer, count: count))
    }

    static func bytes(_ data: ProtobufCBinaryData) -> [UInt8] {
        guard let pointer = data.data, data.len > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: pointer, count: data.len))
    }
}
