import Tensor

/// Batch normalisation of [N, C] features (PyTorch's `nn.BatchNorm1d` on 2-D input): `BatchNorm2d`'s arithmetic
/// on the features viewed as [N, C, 1, 1], with the same state names.
public final class BatchNorm1d: Layer {
    public let norm: BatchNorm2d

    public init(_ norm: BatchNorm2d) { self.norm = norm }

    public var namedState: [(name: String, parameter: Parameter)] { norm.namedState }
    public var sublayers: [Layer] { [norm] }

    public func copy() -> Layer { BatchNorm1d(norm.copy() as! BatchNorm2d) }

    public func forward(_ input: Tensor, mode: ForwardMode) -> Tensor {
        precondition(input.rank == 2, "BatchNorm1d needs [N, C] input, got \(input.shape)")
        return norm.forward(input.reshaped(input.shape + [1, 1]), mode: mode).reshaped(input.shape)
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        norm.backward(outputGradient.reshaped(outputGradient.shape + [1, 1])).reshaped(outputGradient.shape)
    }
}
