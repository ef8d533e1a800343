import CKernels
import Tensor

/// 3×3 convolutions with stride 1 and padding 1 over fewer channels than Winograd's products pay for (conv1 of
/// fmnist-cnn reads one) run directly on zero-padded planes (`direct_convolution.c`) instead of through a column
/// matrix and a GEMM with an inner dimension of 9·in: the forward pass, the input gradient (the same kernel over
/// the padded output gradient with the weights transposed and flipped) and the weight and bias gradients (lane
/// sums per chunk, reduced in lane order, chunks summed in chunk order). Every sum's order is fixed by the shapes.
extension Conv2d {
    /// Whether `forward` and `backward` run directly: planes of at least 4 lines of 16 columns.
    func usesDirect(_ g: ConvolutionGeometry) -> Bool {
        kernel == 3 && stride == 1 && padding == 1 && !usesWinograd && g.width >= 16 && g.height >= 4
    }

    /// One image's padded planes ([channels][height + 2][padded width]).
    static func padded(_ planes: UnsafePointer<Float>, channels: Int, _ g: ConvolutionGeometry) -> [Float] {
        let count = channels * (g.height + 2) * lethe_direct_padded_width(g.width)
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            lethe_direct_pad(planes, channels, g.height, g.width, buffer.baseAddress!)
            initialized = count
        }
    }

    /// The images' output planes (bias added) written to `output`, or with `pooled` each plane max-pooled 2×2
    /// (bias added as the pool reads it) and rectified into `output` (inference: `forwardPooledReLU`).
    func directImages(
        _ input: UnsafePointer<Float>, images: Range<Int>, _ g: ConvolutionGeometry, weights: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?, into output: UnsafeMutablePointer<Float>, pooled: Bool = false
    ) {
        let (plane, rows) = (g.outputPlane, g.rows)
        let planeOut = g.outputHeight / 2 * (g.outputWidth / 2)
        // Lines in fours pair up into the pool's windows: each group of four pooled as it is computed.
        let poolsAsItComputes = pooled && g.height % 4 == 0
        var scratch = [Float].scratch(count: pooled && !poolsAsItComputes ? plane : 0)
        scratch.withUnsafeMutableBufferPointer { scratch in
            for image in images {
                let x = Self.padded(input + image * g.channels * g.height * g.width, channels: g.channels, g)
                x.withUnsafeBufferPointer { x in
                    for o in 0..<outChannels {
                        guard pooled else {
                            lethe_direct_convolution_plane(
                                x.baseAddress!, g.channels, g.height, g.width, weights + o * rows, bias.map { $0 + o },
                                output + (image * outChannels + o) * plane)
                            continue
                        }
                        let target = output + (image * outChannels + o) * planeOut
                        if poolsAsItComputes {
                            lethe_direct_convolution_pooled_plane(
                                x.baseAddress!, g.channels, g.height, g.width, weights + o * rows, bias.map { $0 + o },
                                target, nil)
                            continue
                        }
                        lethe_direct_convolution_plane(
                            x.baseAddress!, g.channels, g.height, g.width, weights + o * rows, nil,
                            scratch.baseAddress!)
                        lethe_biased_max_pool_2x2(
                            scratch.baseAddress!, g.width, g.outputHeight / 2, bias.map { $0 + o }, target)
                    }
                }
                if pooled {
                    let target = output + image * outChannels * planeOut
                    Vectorized.relu(target, target, count: outChannels * planeOut)
                }
            }
        }
    }

    /// One chunk's weight gradient ([out, in, 3, 3]) and bias gradient ([out]) from its images' input and output
    /// gradient (`outputGradient`: the chunk's planes, from its first image's); writes their input gradient to
    /// `inputGradient` when given.
    func directChunkGradient(
        _ outputGradient: UnsafePointer<Float>, input: Tensor, images: Range<Int>, _ g: ConvolutionGeometry,
        weights: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?
    ) -> (weight: [Float], bias: [Float]) {
        let (plane, rows, outChannels) = (g.outputPlane, g.rows, outChannels)
        let perOutput = rows + 1
        // Each input channel's kernels over the output channels, flipped: the input gradient's weights.
        let flipped = inputGradient == nil ? [] : flippedTransposedWeights(weights)
        var lanes = [Float](repeating: 0, count: outChannels * perOutput * 16)
        input.withUnsafeBufferPointer { input in
            lanes.withUnsafeMutableBufferPointer { lanes in
                for image in images {
                    let x = Self.padded(
                        input.baseAddress! + image * g.channels * g.height * g.width, channels: g.channels, g)
                    let gradient = outputGradient + (image - images.lowerBound) * outChannels * plane
                    x.withUnsafeBufferPointer { x in
                        for o in 0..<outChannels {
                            lethe_direct_gradient_lanes(
                                x.baseAddress!, g.channels, g.height, g.width, gradient + o * plane,
                                lanes.baseAddress! + o * perOutput * 16)
                        }
                    }
                    guard let inputGradient else { continue }
                    let dy = Self.padded(gradient, channels: outChannels, g)
                    dy.withUnsafeBufferPointer { dy in
                        flipped.withUnsafeBufferPointer { flipped in
                            for c in 0..<g.channels {
                                lethe_direct_convolution_plane(
                                    dy.baseAddress!, outChannels, g.height, g.width,
                                    flipped.baseAddress! + c * outChannels * 9, nil,
                                    inputGradient + (image * g.channels + c) * g.height * g.width)
                            }
                        }
                    }
                }
            }
        }
        var sums = [Float](repeating: 0, count: outChannels * perOutput)
        lethe_direct_reduce_lanes(lanes, outChannels * perOutput, &sums)
        var weight = [Float](repeating: 0, count: outChannels * rows)
        var bias = [Float](repeating: 0, count: outChannels)
        for o in 0..<outChannels {
            for k in 0..<rows { weight[o * rows + k] = sums[o * perOutput + k] }
            bias[o] = sums[o * perOutput + rows]
        }
        return (weight, bias)
    }

    /// w[o][c][2 − ky][2 − kx] at [c][o][ky][kx].
    private func flippedTransposedWeights(_ weights: UnsafePointer<Float>) -> [Float] {
        let (outChannels, inChannels) = (outChannels, inChannels)
        return [Float](unsafeUninitializedCapacity: outChannels * inChannels * 9) { flipped, initialized in
            for o in 0..<outChannels {
                for c in 0..<inChannels {
                    for k in 0..<9 {
                        flipped[(c * outChannels + o) * 9 + k] = weights[(o * inChannels + c) * 9 + 8 - k]
                    }
                }
            }
            initialized = outChannels * inChannels * 9
        }
    }
}
