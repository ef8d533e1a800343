import Tensor

/// 3×3 convolutions with stride 1 and padding 1 over enough channels run as Winograd's F(4×4, 3×3)
/// (`WinogradTiling`): 36 products [out, in]·[in, tiles] per chunk of images instead of one [out, 9·in]·[9·in,
/// pixels]. Chunks are fixed by the shapes (`chunks`, `winogradImagesPerChunk`), each chunk's products run on one
/// thread (or, when a chunk runs alone, its products and its transforms' channels spread over the threads), so the
/// bits depend neither on the thread count nor, in inference, on the batch an image comes in.
extension Conv2d {
    /// Whether `forward` and `backward` use Winograd's products: fewer channels would leave the products too thin
    /// to pay for the transforms.
    var usesWinograd: Bool { kernel == 3 && stride == 1 && padding == 1 && inChannels >= 8 && outChannels >= 8 }

    func winogradTiling(_ g: ConvolutionGeometry) -> WinogradTiling {
        WinogradTiling(height: g.height, width: g.width)
    }

    /// Images per chunk whose products (and transformed input) fit in 1 MB, so that they stay in cache between
    /// the products and the transforms (7 for fmnist-cnn's conv2: 36 × 64 × 16 floats an image).
    func winogradImagesPerChunk(_ g: ConvolutionGeometry) -> Int {
        let perImage = WinogradTiling.positions * max(inChannels, outChannels) * winogradTiling(g).tilesPerImage
        return max(1, (1 << 18) / perImage)
    }

    /// U = G g Gᵀ for the current weights ([36][out][in]), kept while they do not change (`DerivedFromWeights`).
    func transformedWeights() -> [Float] {
        let (outChannels, inChannels) = (outChannels, inChannels)
        return weight.value.withUnsafeBufferPointer { weights in
            keptTransform.value(of: weights) {
                WinogradTiling.transformWeights($0.baseAddress!, outChannels: outChannels, inChannels: inChannels)
            }
        }
    }

    /// Each position's U transposed ([36][in][out]), for the input gradient's products, from U as the forward pass
    /// transformed it.
    func transposedTransformedWeights(_ u: [Float]) -> [Float] {
        precondition(u.count == WinogradTiling.positions * outChannels * inChannels, "backward without a forward pass")
        let (outChannels, inChannels) = (outChannels, inChannels)
        let block = outChannels * inChannels
        return [Float](unsafeUninitializedCapacity: u.count) { ut, initialized in
            for position in 0..<WinogradTiling.positions {
                for o in 0..<outChannels {
                    for c in 0..<inChannels {
                        ut[position * block + c * outChannels + o] = u[position * block + o * inChannels + c]
                    }
                }
            }
            initialized = u.count
        }
    }

    /// Inference through this convolution (no backward pass follows): its output, or with `pooled` its output
    /// 2×2 max-pooled and rectified (`forwardPooledReLU`).
    func forwardWinograd(_ input: Tensor, pooled: Bool) -> Tensor {
        let g = geometry(input.shape)
        let batch = input.shape[0]
        let chunks = chunks(g, batch: batch)
        inputShape = input.shape
        lastMultiplyAccumulates = batch * outChannels * g.rows * g.outputPlane
        let (height, width) = pooled ? (g.outputHeight / 2, g.outputWidth / 2) : (g.outputHeight, g.outputWidth)
        let u = transformedWeights()
        let biasValues = bias?.value.scalars
        return Tensor(shape: [batch, outChannels, height, width]) { y in
            input.withUnsafeBufferPointer { x in
                u.withUnsafeBufferPointer { u in
                    Parallel.forEachTask(chunks.count) { index, inParallel in
                        let images = chunks[index]
                        _ = winogradChunk(
                            x.baseAddress! + images.lowerBound * g.channels * g.height * g.width,
                            imageCount: images.count, tiling: winogradTiling(g), weights: u.baseAddress!,
                            bias: biasValues, into: y.baseAddress! + images.lowerBound * outChannels * height * width,
                            writing: pooled ? .pooledRectified : .planes, keeping: false, serial: inParallel)
                    }
                }
            }
        }
    }

    /// A transformed matrix ([36][channels][stride], `WinogradTiling.positionStride` from one position to the
    /// next) written by `transform` for ranges of its channels, spread over the threads unless `serial`; 16 floats
    /// more than it holds, so that `aligned` finds its 64-byte aligned start (the transforms' 16-lane loads and
    /// stores then never straddle two cache lines).
    private func transformed(
        channels: Int, stride: Int, serial: Bool,
        _ transform: (Range<Int>, UnsafeMutablePointer<Float>) -> Void
    ) -> [Float] {
        let count = Self.transformedCount(channels: channels, stride: stride)
        return [Float](unsafeUninitializedCapacity: count) { matrix, initialized in
            let start = Self.aligned(UnsafeMutablePointer(matrix.baseAddress!))
            Parallel.forEach(channels, serial: serial) { transform($0, start) }
            initialized = count
        }
    }

    /// Floats to allocate for a transformed matrix of `channels` rows `stride` apart, its alignment included.
    static func transformedCount(channels: Int, stride: Int) -> Int {
        WinogradTiling.positions * WinogradTiling.positionStride(channels: channels, stride: stride) + 16
    }

    /// The first 64-byte aligned float of a buffer allocated by `transformed` (an array's storage does not move).
    static func aligned(_ buffer: UnsafeMutablePointer<Float>) -> UnsafeMutablePointer<Float> {
        let misaligned = Int(bitPattern: buffer) % 64
        return buffer + (misaligned == 0 ? 0 : (64 - misaligned) / MemoryLayout<Float>.size)
    }

    /// What a chunk's output transform writes: the output planes, or those planes 2×2 max-pooled — rectified
    /// (inference, `forwardPooledReLU`), or with the maxima's positions (training, `forwardPooledTraining`).
    enum WinogradOutput {
        case planes
        case pooledRectified
        case pooled(positions: UnsafeMutablePointer<Int32>)
    }

    /// One chunk's convolution: writes the `imageCount` images' output (bias added) to `output` as `writing` says
    /// and returns their transformed input V ([36][in][tiles], see `transformed`) when `keeping` (the backward pass
    /// reads it).
    func winogradChunk(
        _ input: UnsafePointer<Float>, imageCount: Int, tiling: WinogradTiling, weights u: UnsafePointer<Float>,
        bias: [Float]?, into output: UnsafeMutablePointer<Float>, writing: WinogradOutput = .planes,
        keeping: Bool = true, serial: Bool
    ) -> [Float] {
        let (inChannels, outChannels) = (inChannels, outChannels)
        let tiles = imageCount * tiling.tilesPerImage
        let (positions, stride) = (WinogradTiling.positions, WinogradTiling.rowStride(tiles: tiles))
        var v = transformed(channels: inChannels, stride: stride, serial: serial) { channels, v in
            tiling.transformInput(
                input, imageCount: imageCount, channelCount: inChannels, channels: channels, into: v, stride: stride)
        }
        var m = [Float].scratch(count: Self.transformedCount(channels: outChannels, stride: stride))
        let vPositions = WinogradTiling.positionStride(channels: inChannels, stride: stride)
        let mPositions = WinogradTiling.positionStride(channels: outChannels, stride: stride)
        v.withUnsafeMutableBufferPointer { v in
            m.withUnsafeMutableBufferPointer { m in
                let (v, m) = (Self.aligned(v.baseAddress!), Self.aligned(m.baseAddress!))
                Parallel.forEach(positions, serial: serial) { range in
                    for position in range {
                        SmallGEMM.multiply(
                            m: outChannels, n: tiles, k: inChannels, a: u + position * outChannels * inChannels,
                            lda: inChannels, b: v + position * vPositions, ldb: stride,
                            c: m + position * mPositions, ldc: stride)
                    }
                }
                Parallel.forEach(outChannels, serial: serial) { channels in
                    switch writing {
                    case .planes:
                        tiling.transformOutput(
                            m, stride: stride, outChannelCount: outChannels, channels: channels,
                            imageCount: imageCount, bias: bias, into: output)
                    case .pooledRectified:
                        tiling.transformOutputPooled(
                            m, stride: stride, outChannelCount: outChannels, channels: channels,
                            imageCount: imageCount, bias: bias, into: output, positions: nil)
                    case .pooled(let positions):
                        tiling.transformOutputPooled(
                            m, stride: stride, outChannelCount: outChannels, channels: channels,
                            imageCount: imageCount, bias: bias, into: output, positions: positions)
                    }
                }
            }
        }
        return keeping ? v : []
    }

    /// One chunk's backward pass from its output gradient (`imageCount` images' planes) and its forward pass's
    /// V (as `winogradChunk` returned it): returns the chunk's weight gradient ([out, in, 3, 3]) and writes its
    /// input gradient to `inputGradient` when given. `ut` holds each position's U transposed ([36][in][out]).
    func winogradChunkGradient(
        _ outputGradient: UnsafePointer<Float>, imageCount: Int, tiling: WinogradTiling,
        transformedInput kept: UnsafePointer<Float>, transposedWeights ut: UnsafePointer<Float>,
        inputGradient: UnsafeMutablePointer<Float>?, serial: Bool
    ) -> [Float] {
        let (inChannels, outChannels) = (inChannels, outChannels)
        let tiles = imageCount * tiling.tilesPerImage
        let (positions, stride) = (WinogradTiling.positions, WinogradTiling.rowStride(tiles: tiles))
        let v = Self.aligned(UnsafeMutablePointer(mutating: kept))
        var dm = transformed(channels: outChannels, stride: stride, serial: serial) { channels, dm in
            tiling.transformOutputGradient(
                outputGradient, imageCount: imageCount, outChannelCount: outChannels, channels: channels, into: dm,
                stride: stride)
        }
        var du = [Float].scratch(count: positions * outChannels * inChannels)
        var dv = [Float].scratch(
            count: inputGradient == nil ? 0 : Self.transformedCount(channels: inChannels, stride: stride))
        let vPositions = WinogradTiling.positionStride(channels: inChannels, stride: stride)
        let mPositions = WinogradTiling.positionStride(channels: outChannels, stride: stride)
        dm.withUnsafeMutableBufferPointer { dm in
            du.withUnsafeMutableBufferPointer { du in
                dv.withUnsafeMutableBufferPointer { dv in
                    let dm = Self.aligned(dm.baseAddress!)
                    let dvStart = dv.baseAddress.map(Self.aligned)
                    Parallel.forEach(positions, serial: serial) { range in
                        for position in range {
                            let dmPosition = dm + position * mPositions
                            // ∂U = ∂M·Vᵀ through libxsmm, which has no transposed operands: V transposed first.
                            withUnsafeTemporaryAllocation(of: Float.self, capacity: tiles * inChannels) { vt in
                                SmallGEMM.transpose(
                                    rows: inChannels, columns: tiles, v + position * vPositions, lda: stride,
                                    into: vt.baseAddress!, ldb: inChannels)
                                SmallGEMM.multiply(
                                    m: outChannels, n: inChannels, k: tiles, a: dmPosition, lda: stride,
                                    b: vt.baseAddress!, ldb: inChannels,
                                    c: du.baseAddress! + position * outChannels * inChannels, ldc: inChannels)
                            }
                            guard let dvStart else { continue }
                            SmallGEMM.multiply(
                                m: inChannels, n: tiles, k: outChannels, a: ut + position * outChannels * inChannels,
                                lda: outChannels, b: dmPosition, ldb: stride,
                                c: dvStart + position * vPositions, ldc: stride)
                        }
                    }
                    guard let inputGradient, let dvStart else { return }
                    Parallel.forEach(inChannels, serial: serial) { channels in
                        tiling.inputGradient(
                            dvStart, stride: stride, channelCount: inChannels, channels: channels,
                            imageCount: imageCount, into: inputGradient)
                    }
                }
            }
        }
        return [Float](unsafeUninitializedCapacity: outChannels * inChannels * 9) { dw, initialized in
            du.withUnsafeBufferPointer {
                WinogradTiling.weightGradient(
                    $0.baseAddress!, outChannels: outChannels, inChannels: inChannels, into: dw.baseAddress!)
            }
            initialized = dw.count
        }
    }
}
