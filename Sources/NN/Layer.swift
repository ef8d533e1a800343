import Tensor

/// A differentiable layer. `forward` keeps what `backward` needs; `backward` takes ∂L/∂output, adds the
/// parameter gradients into each `Parameter.grad` and returns ∂L/∂input.
public protocol Layer: AnyObject {
    func forward(_ input: Tensor, mode: ForwardMode) -> Tensor
    func backward(_ outputGradient: Tensor) -> Tensor
    /// Parameters and buffers in PyTorch's `state_dict` order, named relative to this layer.
    var namedState: [(name: String, parameter: Parameter)] { get }
    /// A fresh layer of the same architecture and a copy of this layer's state.
    func copy() -> Layer
    /// Layers nested inside this one.
    var sublayers: [Layer] { get }
    /// Multiply-accumulates of the last forward pass (convolutions and matrix products only).
    var lastMultiplyAccumulates: Int { get }
}

extension Layer {
    public var namedState: [(name: String, parameter: Parameter)] { [] }
    public var sublayers: [Layer] { [] }
    public var lastMultiplyAccumulates: Int { 0 }
}

/// The output size of a sliding window (convolution or pooling), as PyTorch computes it (floor mode).
@inlinable
func slidingOutputSize(_ size: Int, kernel: Int, stride: Int, padding: Int) -> Int {
    (size + 2 * padding - kernel) / stride + 1
}

func prefixed(_ prefix: String, _ state: [(name: String, parameter: Parameter)]) -> [(
    name: String, parameter: Parameter
)] {
    state.map { (name: "\(prefix).\($0.name)", parameter: $0.parameter) }
}

func copyState(from source: Layer, to target: Layer) {
    for (from, to) in zip(source.namedState, target.namedState) {
        to.parameter.value = from.parameter.value
    }
}
