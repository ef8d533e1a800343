import CKernels
import Tensor

extension Conv2d {
    /// Whether `forwardPooledTraining` can run this convolution with `pool` (after a ReLU) on input of `shape`: with
    /// Winograd's products (each tile's 2×2 block is a pooling window), or run directly on planes whose lines pair
    /// up into the pool's windows four at a time.
    func poolsWhileTraining(_ pool: MaxPool2d, inputShape shape: [Int]) -> Bool {
        guard poolsInPlace(pool, inputShape: shape) else { return false }
        let g = geometry(shape)
        return usesWinograd || (usesDirect(g) && g.height % 4 == 0)
    }

    /// Training through this convolution, its ReLU and `pool`: the output is pooled, with the maxima's positions,
    /// as it is computed (by the output transform, or four lines at a time), so the convolution's full-size output
    /// is neither written nor read back; then rectified plane by plane. `pool` is left as its `forwardRectified`
    /// would leave it and this layer as its `forward` would: the same bits for every output and gradient.
    func forwardPooledTraining(_ input: Tensor, pool: MaxPool2d) -> Tensor {
        let g = geometry(input.shape)
        let batch = input.shape[0]
        let (rows, outChannels) = (g.rows, outChannels)
        let planeOut = g.outputHeight / 2 * (g.outputWidth / 2)
        inputShape = input.shape
        lastMultiplyAccumulates = batch * outChannels * rows * g.outputPlane
        let biasValues = bias?.value.scalars
        let chunks = chunks(g, batch: batch)
        let winograd = usesWinograd ? transformedWeights() : []
        let columnStore = ChunkStore(count: winograd.isEmpty ? 0 : chunks.count)
        var positions = [Int32](unsafeUninitializedCapacity: batch * outChannels * planeOut) { _, count in
            count = batch * outChannels * planeOut
        }
        let output = Tensor(shape: [batch, outChannels, g.outputHeight / 2, g.outputWidth / 2]) { y in
            input.withUnsafeBufferPointer { x in
                weight.value.withUnsafeBufferPointer { w in
                    positions.withUnsafeMutableBufferPointer { arg in
                        Parallel.forEachTask(chunks.count) { index, inParallel in
                            let images = chunks[index]
                            let first = images.lowerBound * outChannels * planeOut
                            if winograd.isEmpty {
                                directPooledImages(
                                    x.baseAddress!, images: images, g, weights: w.baseAddress!, bias: biasValues,
                                    into: y.baseAddress!, positions: arg.baseAddress!)
                            } else {
                                columnStore[index] = winograd.withUnsafeBufferPointer { u in
                                    winogradChunk(
                                        x.baseAddress! + images.lowerBound * g.channels * g.height * g.width,
                                        imageCount: images.count, tiling: winogradTiling(g), weights: u.baseAddress!,
                                        bias: biasValues, into: y.baseAddress! + first,
                                        writing: .pooled(positions: arg.baseAddress! + first), serial: inParallel)
                                }
                            }
                            // The pool's ReLU, plane by plane as `forwardRectified` runs it.
                            for plane in 0..<(images.count * outChannels) {
                                let target = y.baseAddress! + first + plane * planeOut
                                Vectorized.relu(target, target, count: planeOut)
                            }
                        }
                    }
                }
            }
        }
        keepForBackward(input: winograd.isEmpty ? input : nil, columns: columnStore.values, winogradWeights: winograd)
        pool.adoptRectified(
            output, positions: positions, inputShape: [batch, outChannels, g.outputHeight, g.outputWidth])
        return output
    }

    /// The images' planes computed directly and pooled four lines at a time, with the maxima's positions.
    private func directPooledImages(
        _ input: UnsafePointer<Float>, images: Range<Int>, _ g: ConvolutionGeometry, weights: UnsafePointer<Float>,
        bias: [Float]?, into output: UnsafeMutablePointer<Float>, positions: UnsafeMutablePointer<Int32>
    ) {
        let planeOut = g.outputHeight / 2 * (g.outputWidth / 2)
        bias.withOptionalPointer { bias in
            for image in images {
                let padded = Self.padded(input + image * g.channels * g.height * g.width, channels: g.channels, g)
                padded.withUnsafeBufferPointer { padded in
                    for o in 0..<outChannels {
                        let plane = (image * outChannels + o) * planeOut
                        lethe_direct_convolution_pooled_plane(
                            padded.baseAddress!, g.channels, g.height, g.width, weights + o * g.rows,
                            bias.map { $0 + o }, output + plane, positions + plane)
                    }
                }
            }
        }
    }
}
