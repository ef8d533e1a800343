import CKernels
import Tensor

/// Max pooling over NCHW input with a square window; padding counts as −∞ and the gradient goes to the
/// first maximal element, as in PyTorch.
public final class MaxPool2d: Layer {
    public let kernel: Int
    public let stride: Int
    public let padding: Int
    /// The last forward pass's input shape (that of the gradient `backward` returns).
    private(set) var inputShape: [Int] = []
    private var argmax: [Int32] = []  // index within the input plane of each output's maximum
    /// The output of the last `forwardRectified`, whose positives pass the gradient; nil after `forward`.
    private var rectifiedOutput: Tensor?

    public init(kernel: Int, stride: Int? = nil, padding: Int = 0) {
        precondition(kernel >= 1 && padding >= 0 && 2 * padding <= kernel, "MaxPool2d needs padding ≤ kernel/2")
        self.kernel = kernel
        self.stride = stride ?? kernel
        self.padding = padding
    }

    public func copy() -> Layer { MaxPool2d(kernel: kernel, stride: stride, padding: padding) }

    public func forward(_ input: Tensor, mode: ForwardMode) -> Tensor {
        pool(input, mode: mode, rectifying: false)
    }

    /// ReLU of the pooled values (a ReLU before the pool gives the same numbers: relu(max) = max(relu)), each
    /// plane rectified while it is in cache; `backward` then passes only the gradient of positive outputs, as
    /// the ReLU's own backward pass would before this pool's (the same bits as the two layers one after another).
    public func forwardRectified(_ input: Tensor, mode: ForwardMode) -> Tensor {
        let output = pool(input, mode: mode, rectifying: true)
        rectifiedOutput = mode.keepsActivations ? output : nil
        return output
    }

    /// The state `forwardRectified` in training leaves, from a pass that pooled and rectified `output` itself
    /// (`Conv2d.forwardPooledTraining`): the maxima's positions within planes of `inputShape`.
    func adoptRectified(_ output: Tensor, positions: [Int32], inputShape: [Int]) {
        self.inputShape = inputShape
        argmax = positions
        rectifiedOutput = output
    }

    private func pool(_ input: Tensor, mode: ForwardMode, rectifying: Bool) -> Tensor {
        precondition(input.rank == 4, "MaxPool2d needs NCHW input, got \(input.shape)")
        inputShape = input.shape
        rectifiedOutput = nil
        let (planes, height, width) = (input.shape[0] * input.shape[1], input.shape[2], input.shape[3])
        let outH = slidingOutputSize(height, kernel: kernel, stride: stride, padding: padding)
        let outW = slidingOutputSize(width, kernel: kernel, stride: stride, padding: padding)
        let output: Tensor
        if poolsTwoByTwo(width: width) {
            output = pool2x2(
                input, planes: planes, outH: outH, keepsPositions: mode.keepsActivations, rectifying: rectifying)
        } else {
            var indices = [Int32](repeating: 0, count: planes * outH * outW)
            output = Tensor(shape: [input.shape[0], input.shape[1], outH, outW]) { y in
                input.withUnsafeBufferPointer { x in
                    indices.withUnsafeMutableBufferPointer { arg in
                        Parallel.forEach(planes, grain: 8) { range in
                            for plane in range {
                                let source = x.baseAddress! + plane * height * width
                                let out = y.baseAddress! + plane * outH * outW
                                let outArg = arg.baseAddress! + plane * outH * outW
                                if padding == 0 {
                                    poolInterior(
                                        source, width: width, outH: outH, outW: outW, into: out, argmax: outArg)
                                } else {
                                    poolPadded(
                                        source, height: height, width: width, outH: outH, outW: outW, into: out,
                                        argmax: outArg)
                                }
                                if rectifying { Vectorized.relu(out, out, count: outH * outW) }
                            }
                        }
                    }
                }
            }
            argmax = indices
        }
        return output
    }

    /// Whether the window is the common 2×2, stride-2 one over planes of even width (`pool2x2`).
    private func poolsTwoByTwo(width: Int) -> Bool { kernel == 2 && stride == 2 && padding == 0 && width % 2 == 0 }

    /// Whether `pool2x2` runs in C: planes at least 16 wide (`max_pool.c`; its backward pass runs in C at any width).
    private func poolsInC(width: Int) -> Bool { width >= 16 }

    /// The common 2×2, stride-2 window over planes of even width (in C from 16 columns, else `MaxPool2x2`); the
    /// maxima's positions only when a backward pass follows.
    private func pool2x2(_ input: Tensor, planes: Int, outH: Int, keepsPositions: Bool, rectifying: Bool) -> Tensor {
        let (height, width) = (input.shape[2], input.shape[3])
        let planeOut = outH * width / 2
        var positions = [Int32](unsafeUninitializedCapacity: keepsPositions ? planes * planeOut : 0) { _, count in
            count = keepsPositions ? planes * planeOut : 0
        }
        let output = Tensor(shape: [input.shape[0], input.shape[1], outH, width / 2]) { y in
            input.withUnsafeBufferPointer { x in
                positions.withUnsafeMutableBufferPointer { arg in
                    Parallel.forEach(planes, grain: 8) { range in
                        withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * planeOut) { pairs in
                            withUnsafeTemporaryAllocation(of: Int32.self, capacity: 2 * planeOut) { pairPositions in
                                for plane in range {
                                    let (source, out) = (
                                        x.baseAddress! + plane * height * width, y.baseAddress! + plane * planeOut
                                    )
                                    if poolsInC(width: width) && keepsPositions {
                                        lethe_max_pool_2x2_positions(
                                            source, width, outH, out, arg.baseAddress! + plane * planeOut)
                                    } else if poolsInC(width: width) {
                                        lethe_biased_max_pool_2x2(source, width, outH, nil, out)
                                    } else {
                                        MaxPool2x2.pool(
                                            source, width: width, outH: outH, into: out,
                                            positions: keepsPositions ? arg.baseAddress! + plane * planeOut : nil,
                                            pairs: pairs.baseAddress!, pairPositions: pairPositions.baseAddress!)
                                    }
                                    if rectifying { Vectorized.relu(out, out, count: planeOut) }
                                }
                            }
                        }
                    }
                }
            }
        }
        argmax = positions
        return output
    }

    /// Every window lies inside the plane (no padding, floor mode): no bounds checks.
    @inline(__always)
    private func poolInterior(
        _ source: UnsafePointer<Float>, width: Int, outH: Int, outW: Int, into out: UnsafeMutablePointer<Float>,
        argmax: UnsafeMutablePointer<Int32>
    ) {
        for oh in 0..<outH {
            for ow in 0..<outW {
                var bestIndex = oh * stride * width + ow * stride
                var best = source[bestIndex]
                for kh in 0..<kernel {
                    let rowStart = (oh * stride + kh) * width + ow * stride
                    for kw in 0..<kernel where kh > 0 || kw > 0 {
                        // Branch-free select; a NaN is taken (and kept), as PyTorch propagates NaN.
                        let value = source[rowStart + kw]
                        let take = !(value <= best) && best == best
                        best = take ? value : best
                        bestIndex = take ? rowStart + kw : bestIndex
                    }
                }
                out[oh * outW + ow] = best
                argmax[oh * outW + ow] = Int32(bestIndex)
            }
        }
    }

    /// Windows may reach into the padding, which counts as −∞.
    private func poolPadded(
        _ source: UnsafePointer<Float>, height: Int, width: Int, outH: Int, outW: Int,
        into out: UnsafeMutablePointer<Float>, argmax: UnsafeMutablePointer<Int32>
    ) {
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
                        if bestIndex < 0 || value > best || (value.isNaN && !best.isNaN) {
                            best = value
                            bestIndex = ih * width + iw
                        }
                    }
                }
                out[oh * outW + ow] = best
                argmax[oh * outW + ow] = Int32(bestIndex)
            }
        }
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        // Each plane is zeroed by the thread that spreads its gradient, just before (not in one serial pass).
        Tensor(shape: inputShape) { dx in
            outputGradient.withUnsafeBufferPointer { dy in
                let planeIn = inputShape[2] * inputShape[3]
                Parallel.forEach(inputShape[0] * inputShape[1], grain: 8) { planes in
                    spreadGradient(dy.baseAddress!, planes: planes, into: dx.baseAddress! + planes.lowerBound * planeIn)
                }
            }
        }
    }

    /// The input gradient's planes `planes` (image-major: image · channels + channel) from the output gradient
    /// `dy` (every plane), written to `dx` from its first element on: each output's gradient at its maximum's
    /// position, zero elsewhere — masked to positive outputs after `forwardRectified`. `backward`'s planes, one
    /// range at a time (`Conv2d.backward(pooledGradient:pool:)` spreads a chunk's planes as it needs them).
    func spreadGradient(_ dy: UnsafePointer<Float>, planes: Range<Int>, into dx: UnsafeMutablePointer<Float>) {
        let (height, width) = (inputShape[2], inputShape[3])
        let outH = slidingOutputSize(height, kernel: kernel, stride: stride, padding: padding)
        let planeOut = outH * slidingOutputSize(width, kernel: kernel, stride: stride, padding: padding)
        let planeIn = height * width
        // One C pass a plane (`lethe_max_pool_2x2_backward`) for every 2×2 window, whoever pooled.
        let twoByTwo = poolsTwoByTwo(width: width)
        let rectified = rectifiedOutput ?? Tensor(zeros: [0])
        let masks = rectifiedOutput != nil
        argmax.withUnsafeBufferPointer { arg in
            rectified.withUnsafeBufferPointer { y in
                for plane in planes {
                    let target = dx + (plane - planes.lowerBound) * planeIn
                    if twoByTwo {
                        lethe_max_pool_2x2_backward(
                            dy + plane * planeOut, arg.baseAddress! + plane * planeOut,
                            masks ? y.baseAddress! + plane * planeOut : nil, height, width, height / 2, target)
                        continue
                    }
                    target.initialize(repeating: 0, count: planeIn)
                    for i in 0..<planeOut {
                        let out = plane * planeOut + i
                        let gradient = !masks || y[out] > 0 ? dy[out] : 0
                        target[Int(arg[out])] += gradient
                    }
                }
            }
        }
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
