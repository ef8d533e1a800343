import Tensor

/// An ONNX model as decoded and validated by `ONNXDecoder`: the operator-set version of the default domain and a
/// graph whose nodes are in topological order and whose every input is defined.
public struct ONNXModel: Sendable, Equatable {
    public let irVersion: Int
    /// The version of the default (`ai.onnx`) operator set the graph was exported for.
    public let opsetVersion: Int
    public let producer: String
    public let graph: ONNXGraph
}

/// A computation graph: the one runtime input (the batch), its output(s), constant tensors (initializers, PyTorch's
/// `state_dict` entries) and the nodes, each value defined exactly once (SSA).
public struct ONNXGraph: Sendable, Equatable {
    public let name: String
    /// The runtime input: its name and its shape with the batch dimension left out ([C, H, W] or [features]).
    public let input: (name: String, sampleShape: [Int])
    public let outputs: [String]
    /// Initializers in file order (which is `state_dict` order for a PyTorch export).
    public let initializers: [ONNXTensor]
    /// Nodes in an order where every node comes after the nodes whose outputs it reads.
    public let nodes: [ONNXNode]

    public static func == (lhs: ONNXGraph, rhs: ONNXGraph) -> Bool {
        lhs.name == rhs.name && lhs.input == rhs.input && lhs.outputs == rhs.outputs
            && lhs.initializers == rhs.initializers && lhs.nodes == rhs.nodes
    }
}

/// One operator application.
public struct ONNXNode: Sendable, Equatable {
    public let name: String
    public let opType: String
    /// "" for the default `ai.onnx` domain.
    public let domain: String
    /// Input value names; "" marks an omitted optional input.
    public let inputs: [String]
    public let outputs: [String]
    public let attributes: [String: ONNXAttribute]
}

/// A node attribute's value.
public enum ONNXAttribute: Sendable, Equatable {
    case float(Float)
    case int(Int)
    case string(String)
    case tensor(ONNXTensor)
    case floats([Float])
    case ints([Int])
    case strings([String])
    /// A kind Lethe does not read (graphs, sparse tensors, types): kept so a refusal can name it.
    case unsupported(kind: Int)
}

/// A constant tensor: floating-point data as float32, integer and boolean data as Int.
public struct ONNXTensor: Sendable, Equatable {
    public enum Values: Sendable, Equatable {
        case floats([Float])
        case integers([Int])
    }

    public let name: String
    public let shape: [Int]
    public let values: Values

    public init(name: String, shape: [Int], values: Values) {
        self.name = name
        self.shape = shape
        self.values = values
    }

    /// The values as a float32 tensor (integers converted), in the tensor's own shape.
    public var floatTensor: Tensor {
        switch values {
        case .floats(let floats): Tensor(shape: shape, scalars: floats)
        case .integers(let integers): Tensor(shape: shape, scalars: integers.map(Float.init))
        }
    }

    public var elementCount: Int { shape.reduce(1, *) }
}
