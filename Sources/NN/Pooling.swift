import Tensor

/// Max pooling over NCHW input with a square window; padding counts as −∞ and the gradient goes to the
/// first maximal element, as in PyTorch.
public final class MaxPool2d: Layer {
    public let kernel: Int
    public let stride: Int
    public let padding: Int
    private var inputShape: [Int] = []
    private var argmax: [Int32] = []  // index within the input plane of each output's maximum

    public init(kernel: Int, stride: Int? = nil, padding: Int = 0) {
        precondition(kernel >= 1 && padding >= 0 && 2 * padding <= kernel, "MaxPool2d needs padding ≤ kernel/2")
        self.kernel = kernel
        self.stride = stride ?? kernel
        self.padding = padding
    }

    public func copy() -> Layer { MaxPool2d(kernel: kernel, stride: stride, padding: padding) }

    public func forward(_ input: Tensor, mode: ForwardMode) -> Tensor {
        precondition(input.rank == 4, "MaxPool2d needs NCHW input, got \(input.shape)")
        inputShape = input.shape
        let (planes, height, width) = (input.shape[0] * input.shape[1], input.shape[2], input.shape[3])
        let outH = slidingOutputSize(height, kernel: kernel, stride: stride, padding: padding)
        let outW = slidingOutputSize(width, kernel: kernel, stride: stride, padding: padding)
        var indices = [Int32](repeating: 0, count: planes * outH * outW)
        let output = Tensor(shape: [input.shape[0], input.shape[1], outH, outW]) { y in
            input.withUnsafeBufferPointer { x in
                indices.withUnsafeMutableBufferPointer { arg in
                    Parallel.forEach(planes, grain: 8) { range in
                        for plane in range {
                            let source = x.baseAddress! + plane * height * width
                            for oh in 0..<outH {
                                for ow in 0..<outW {
                                    var best = -Float.infinity
                                    var bestIndex = -1
                                    for kh in 0..<kernel {
                                        let ih = oh * stride - padding + kh
                                        guard ih >= 0 && ih < height else { continue }
                                        for kw in 0..<kernel {
                                            let iw = ow * stride - padding + kw
                                            guard iw >= 0 && iw < width else { continue }
                                            let value = source[ih * width + iw]
                                            if value > best || bestIndex < 0 || value.isNaN {
                                                best = value
                                                bestIndex = ih * width + iw
                                            }
                                        }
                                    }
                                    let out = (plane * outH + oh) * outW + ow
                                    y[out] = best
                                    arg[out] = Int32(bestIndex)
                                }
                            }
                        }
                    }
                }
            }
        }
        argmax = indices
        return output
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        let planeIn = inputShape[2] * inputShape[3]
        let planeOut = outputGradient.shape[2] * outputGradient.shape[3]
        var inputGradient = Tensor(zeros: inputShape)
        inputGradient.withUnsafeMutableBufferPointer { dx in
            outputGradient.withUnsafeBufferPointer { dy in
                argmax.withUnsafeBufferPointer { arg in
                    Parallel.forEach(inputShape[0] * inputShape[1], grain: 8) { range in
                        for plane in range {
                            for i in 0..<planeOut {
                                let out = plane * planeOut + i
                                dx[plane * planeIn + Int(arg[out])] += dy[out]
                            }
                        }
                    }
                }
            }
        }
        return inputGradient
    }
}

/// Global average pooling to 1×1 (PyTorch's `nn.AdaptiveAvgPool2d(1)`): [N, C, H, W] → [N, C, 1, 1].
public final class AdaptiveAvgPool2d: Layer {
    private var inputShape: [Int] = []

    public init() {}

    public func copy() -> Layer { AdaptiveAvgPool2d() }

    public func forward(_ input: Tensor, mode: ForwardMode) -> Tensor {
        precondition(input.rank == 4, "AdaptiveAvgPool2d needs NCHW input, got \(input.shape)")
        inputShape = input.shape
        let plane = input.shape[2] * input.shape[3]
        let planes = input.shape[0] * input.shape[1]
        return Tensor(shape: [input.shape[0], input.shape[1], 1, 1]) { y in
            input.withUnsafeBufferPointer { x in
                for p in 0..<planes {
                    var total: Float = 0
                    for i in 0..<plane { total += x[p * plane + i] }
                    y[p] = total / Float(plane)
                }
            }
        }
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        let plane = inputShape[2] * inputShape[3]
        let scale = 1 / Float(plane)
        return Tensor(shape: inputShape) { dx in
            outputGradient.withUnsafeBufferPointer { dy in
                for p in 0..<dy.count {
                    let value = dy[p] * scale
                    for i in 0..<plane { dx[p * plane + i] = value }
                }
            }
        }
    }
}
