import ONNX

/// Typed reads of a node's attributes, refusing (naming the node) a value of the wrong kind.
extension ONNXNode {
    func int(_ key: String, default value: Int) throws(ONNXError) -> Int {
        switch attributes[key] {
        case nil: return value
        case .int(let int): return int
        default: throw invalid("attribute \(key) must be an integer")
        }
    }

    func float(_ key: String, default value: Float) throws(ONNXError) -> Float {
        switch attributes[key] {
        case nil: return value
        case .float(let float): return float
        default: throw invalid("attribute \(key) must be a float")
        }
    }

    func ints(_ key: String) throws(ONNXError) -> [Int]? {
        switch attributes[key] {
        case nil: return nil
        case .ints(let ints): return ints
        default: throw invalid("attribute \(key) must be a list of integers")
        }
    }

    func string(_ key: String) throws(ONNXError) -> String? {
        switch attributes[key] {
        case nil: return nil
        case .string(let string): return string
        default: throw invalid("attribute \(key) must be a string")
        }
    }

    func invalid(_ reason: String) -> ONNXError { .invalidNode(node: name, opType: opType, reason: reason) }

    func unsupported(_ reason: String, opset: Int) -> ONNXError {
        .unsupportedOperator(node: name, opType: opType, opset: opset, reason: reason)
    }

    /// The square window of a Conv or pooling node: one kernel size, stride and symmetric padding for both axes,
    /// dilation 1 and explicit padding (no `auto_pad`).
    func window(kernel inferred: Int?, opset: Int) throws(ONNXError) -> (kernel: Int, stride: Int, padding: Int) {
        if let autoPad = try string("auto_pad"), autoPad != "NOTSET" {
            throw unsupported("auto_pad \(autoPad); export with explicit padding", opset: opset)
        }
        let shape = try ints("kernel_shape") ?? inferred.map { [$0, $0] }
        guard let shape, shape.count == 2, shape[0] == shape[1], shape[0] >= 1 else {
            throw unsupported(
                "kernel_shape \(String(describing: try? ints("kernel_shape"))) is not a square 2-D window", opset: opset
            )
        }
        let strides = try ints("strides") ?? [1, 1]
        guard strides.count == 2, strides[0] == strides[1], strides[0] >= 1 else {
            throw unsupported("strides \(strides) differ between axes", opset: opset)
        }
        let pads = try ints("pads") ?? [0, 0, 0, 0]
        guard pads.count == 4, Set(pads).count == 1, pads[0] >= 0 else {
            throw unsupported("pads \(pads) are not the same on every side", opset: opset)
        }
        let dilations = try ints("dilations") ?? [1, 1]
        guard dilations.allSatisfy({ $0 == 1 }) else { throw unsupported("dilations \(dilations)", opset: opset) }
        if try int("ceil_mode", default: 0) != 0 { throw unsupported("ceil_mode 1", opset: opset) }
        return (shape[0], strides[0], pads[0])
    }
}
