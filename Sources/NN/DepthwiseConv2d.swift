import Tensor

/// Depthwise 2-D convolution (PyTorch's `nn.Conv2d` with groups = in_channels): each input channel c is
/// convolved with its own `multiplier` square kernels, giving output channels c·multiplier ..< (c+1)·multiplier.
/// Weight [C·multiplier, 1, k, k]. Work is split by output plane (forward, ∂weight) and input plane (∂input), each
/// summed in a fixed order, so the bits do not depend on the thread count.
public final class DepthwiseConv2d: Layer {
    public let weight: Parameter
    public let bias: Parameter?
    public let stride: Int
    public let padding: Int
    private var input = Tensor(zeros: [0])
    public private(set) var lastMultiplyAccumulates = 0

    public init(weight: Tensor, bias: Tensor?, channels: Int, stride: Int = 1, padding: Int = 0) {
        precondition(
            weight.rank == 4 && weight.shape[1] == 1 && weight.shape[2] == weight.shape[3]
                && weight.shape[0] % channels == 0, "DepthwiseConv2d weight must be [C·m, 1, k, k]")
        precondition(stride >= 1 && padding >= 0, "DepthwiseConv2d needs stride ≥ 1 and padding ≥ 0")
        self.weight = Parameter(weight)
        self.bias = bias.map { Parameter($0) }
        self.channels = channels
        self.stride = stride
        self.padding = padding
    }

    public let channels: Int
    public var outChannels: Int { weight.value.shape[0] }
    public var kernel: Int { weight.value.shape[2] }
    private var multiplier: Int { outChannels / channels }

    public var namedState: [(name: String, parameter: Parameter)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }

    public func copy() -> Layer {
        DepthwiseConv2d(weight: weight.value, bias: bias?.value, channels: channels, stride: stride, padding: padding)
    }

    private func outputSize(_ shape: [Int]) -> (height: Int, width: Int) {
        (
            slidingOutputSize(shape[2], kernel: kernel, stride: stride, padding: padding),
            slidingOutputSize(shape[3], kernel: kernel, stride: stride, padding: padding)
        )
    }

    /// Calls `body(inputOffset, outputOffset, kh, kw)` for every in-image tap of output plane positions.
    @inline(__always)
    private func forEachTap(
        height: Int, width: Int, outH: Int, outW: Int, _ body: (_ input: Int, _ output: Int, _ tap: Int) -> Void
    ) {
        for oh in 0..<outH {
            for ow in 0..<outW {
                for kh in 0..<kernel {
                    let ih = oh * stride - padding + kh
                    guard ih >= 0 && ih < height else { continue }
                    for kw in 0..<kernel {
                        let iw = ow * stride - padding + kw
                        guard iw >= 0 && iw < width else { continue }
                        body(ih * width + iw, oh * outW + ow, kh * kernel + kw)
                    }
                }
            }
        }
    }

    public func forward(_ input: Tensor, mode: ForwardMode) -> Tensor {
        precondition(input.rank == 4 && input.shape[1] == channels, "DepthwiseConv2d(\(channels)) got \(input.shape)")
        self.input = input
        let (batch, height, width) = (input.shape[0], input.shape[2], input.shape[3])
        let (outH, outW) = outputSize(input.shape)
        let (outChannels, multiplier, taps) = (outChannels, multiplier, kernel * kernel)
        lastMultiplyAccumulates = batch * outChannels * outH * outW * taps
        let biasValues = bias?.value.scalars
        return Tensor(shape: [batch, outChannels, outH, outW]) { y in
            input.withUnsafeBufferPointer { x in
                weight.value.withUnsafeBufferPointer { w in
                    Parallel.forEach(batch * outChannels, grain: 4) { range in
                        for plane in range {
                            let (n, o) = plane.quotientAndRemainder(dividingBy: outChannels)
                            let source = x.baseAddress! + (n * channels + o / multiplier) * height * width
                            let out = y.baseAddress! + plane * outH * outW
                            out.update(repeating: biasValues?[o] ?? 0, count: outH * outW)
                            let kernelWeights = w.baseAddress! + o * taps
                            forEachTap(height: height, width: width, outH: outH, outW: outW) { i, j, t in
                                out[j] += kernelWeights[t] * source[i]
                            }
                        }
                    }
                }
            }
        }
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        let (batch, height, width) = (input.shape[0], input.shape[2], input.shape[3])
        let (outH, outW) = outputSize(input.shape)
        let (outChannels, multiplier, taps, channels) = (outChannels, multiplier, kernel * kernel, channels)
        precondition(outputGradient.shape == [batch, outChannels, outH, outW], "DepthwiseConv2d backward shape")
        var weightGradient = [Float](repeating: 0, count: outChannels * taps)
        var biasGradient = [Float](repeating: 0, count: outChannels)
        var inputGradient = Tensor(zeros: input.shape)
        outputGradient.withUnsafeBufferPointer { dy in
            input.withUnsafeBufferPointer { x in
                weightGradient.withUnsafeMutableBufferPointer { dw in
                    biasGradient.withUnsafeMutableBufferPointer { db in
                        // One output channel per item: images summed in order.
                        Parallel.forEach(outChannels, grain: 1) { range in
                            for o in range {
                                for n in 0..<batch {
                                    let source = x.baseAddress! + (n * channels + o / multiplier) * height * width
                                    let gradient = dy.baseAddress! + (n * outChannels + o) * outH * outW
                                    let target = dw.baseAddress! + o * taps
                                    forEachTap(height: height, width: width, outH: outH, outW: outW) { i, j, t in
                                        target[t] += gradient[j] * source[i]
                                    }
                                    for j in 0..<outH * outW { db[o] += gradient[j] }
                                }
                            }
                        }
                    }
                }
            }
            weight.value.withUnsafeBufferPointer { w in
                inputGradient.withUnsafeMutableBufferPointer { dx in
                    // One input plane per item: its output channels summed in order.
                    Parallel.forEach(batch * channels, grain: 4) { range in
                        for plane in range {
                            let (n, c) = plane.quotientAndRemainder(dividingBy: channels)
                            let target = dx.baseAddress! + plane * height * width
                            for o in c * multiplier..<(c + 1) * multiplier {
                                let gradient = dy.baseAddress! + (n * outChannels + o) * outH * outW
                                let kernelWeights = w.baseAddress! + o * taps
                                forEachTap(height: height, width: width, outH: outH, outW: outW) { i, j, t in
                                    target[i] += kernelWeights[t] * gradient[j]
                                }
                            }
                        }
                    }
                }
            }
        }
        weight.grad.withUnsafeMutableBufferPointer { target in
            for i in 0..<target.count { target[i] += weightGradient[i] }
        }
        if let bias {
            for o in 0..<outChannels { bias.grad.scalars[o] += biasGradient[o] }
        }
        return inputGradient
    }
}
