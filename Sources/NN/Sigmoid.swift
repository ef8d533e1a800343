import Foundation
import Tensor

/// 1 / (1 + e^−x) (PyTorch's `nn.Sigmoid`); the backward pass uses the output: ∂y/∂x = y(1 − y).
public final class Sigmoid: Layer {
    private var output = Tensor(zeros: [0])

    public init() {}

    public func forward(_ input: Tensor, mode: ForwardMode) -> Tensor {
        let result = Tensor(shape: input.shape) { y in
            input.withUnsafeBufferPointer { x in
                Parallel.forEach(x.count, grain: 1 << 16) { range in
                    for i in range { y[i] = 1 / (1 + Foundation.exp(-x[i])) }
                }
            }
        }
        output = mode.keepsActivations ? result : Tensor(zeros: [0])
        return result
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        Tensor(shape: outputGradient.shape) { dx in
            outputGradient.withUnsafeBufferPointer { dy in
                output.withUnsafeBufferPointer { y in
                    Parallel.forEach(dy.count, grain: 1 << 16) { range in
                        for i in range { dx[i] = dy[i] * y[i] * (1 - y[i]) }
                    }
                }
            }
        }
    }

    public func copy() -> Layer { Sigmoid() }
}
