import Tensor

/// One node of a `GraphLayer`: reads one or more computed values (in order) and produces one.
public protocol GraphOperation: AnyObject {
    func forward(_ inputs: [Tensor], mode: ForwardMode) -> Tensor
    /// ∂L/∂input for each computed input, in input order, after adding parameter gradients into their `grad`.
    func backward(_ outputGradient: Tensor) -> [Tensor]
    /// Parameters and buffers under the graph's names (ONNX initializer names, which are PyTorch's `state_dict`
    /// names), in this operation's order.
    var namedState: [(name: String, parameter: Parameter)] { get }
    /// The engine layer doing the work, if any (so `Model.batchNorms` and multiply-accumulate counts see it).
    var layer: Layer? { get }
    /// A fresh operation of the same kind with a copy of the state.
    func copy() -> GraphOperation
}

extension GraphOperation {
    public var namedState: [(name: String, parameter: Parameter)] { [] }
    public var layer: Layer? { nil }
}

/// An engine layer with one input as a graph node; `stateNames` are the graph's names for the layer's
/// `namedState` entries, in order.
final class LayerOperation: GraphOperation {
    let wrapped: Layer
    let stateNames: [String]

    init(_ layer: Layer, stateNames: [String] = []) {
        precondition(layer.namedState.count == stateNames.count, "one graph name per state entry of the layer")
        self.wrapped = layer
        self.stateNames = stateNames
    }

    var layer: Layer? { wrapped }

    var namedState: [(name: String, parameter: Parameter)] {
        zip(stateNames, wrapped.namedState).map { (name: $0, parameter: $1.parameter) }
    }

    func forward(_ inputs: [Tensor], mode: ForwardMode) -> Tensor { wrapped.forward(inputs[0], mode: mode) }
    func backward(_ outputGradient: Tensor) -> [Tensor] { [wrapped.backward(outputGradient)] }
    func copy() -> GraphOperation { LayerOperation(wrapped.copy(), stateNames: stateNames) }
}
