import Tensor

/// Nearest-neighbour upsampling of NCHW input by an integer factor (PyTorch's `nn.Upsample(scale_factor=f)`,
/// mode "nearest"): every input pixel becomes an f×f block. The backward pass sums each block's gradients.
public final class Upsample: Layer {
    public let factor: Int
    private var inputShape: [Int] = []

    public init(factor: Int = 2) {
        precondition(factor >= 1, "an upsampling factor is at least 1")
        self.factor = factor
    }

    public func forward(_ input: Tensor, mode: ForwardMode) -> Tensor {
        precondition(input.rank == 4, "Upsample expects NCHW input, got \(input.shape)")
        inputShape = input.shape
        let (planes, height, width) = (input.shape[0] * input.shape[1], input.shape[2], input.shape[3])
        let (f, outWidth) = (factor, input.shape[3] * factor)
        let outPlane = height * f * outWidth
        return Tensor(shape: [input.shape[0], input.shape[1], height * f, outWidth]) { y in
            input.withUnsafeBufferPointer { x in
                Parallel.forEach(planes, grain: 16) { range in
                    for plane in range {
                        let (inBase, outBase) = (plane * height * width, plane * outPlane)
                        for row in 0..<(height * f) {
                            let source = inBase + (row / f) * width
                            let target = outBase + row * outWidth
                            for column in 0..<outWidth { y[target + column] = x[source + column / f] }
                        }
                    }
                }
            }
        }
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        let (planes, height, width) = (inputShape[0] * inputShape[1], inputShape[2], inputShape[3])
        let (f, outWidth) = (factor, width * factor)
        let outPlane = height * f * outWidth
        return Tensor(shape: inputShape) { dx in
            outputGradient.withUnsafeBufferPointer { dy in
                Parallel.forEach(planes, grain: 16) { range in
                    for plane in range {
                        let (inBase, outBase) = (plane * height * width, plane * outPlane)
                        for i in 0..<height {
                            for j in 0..<width {
                                var total: Float = 0
                                for a in 0..<f {
                                    let row = outBase + (i * f + a) * outWidth + j * f
                                    for b in 0..<f { total += dy[row + b] }
                                }
                                dx[inBase + i * width + j] = total
                            }
                        }
                    }
                }
            }
        }
    }

    public func copy() -> Layer { Upsample(factor: factor) }
}
