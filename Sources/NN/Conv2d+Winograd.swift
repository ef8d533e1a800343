import Tensor

/// 3×3 convolutions with stride 1 and padding 1 over enough channels run as Winograd's F(2×2, 3×3)
/// (`WinogradTiling`): 16 products [out, in]·[in, tiles] per chunk of images instead of one [out, 9·in]·[9·in,
/// pixels]. Chunks are fixed by the shapes (`chunks`, `winogradImagesPerChunk`), each chunk's products run on one
/// thread (or, when a chunk runs alone, its 16 products and its transforms' channels spread over the threads), so
/// the bits do not depend on the thread count.
extension Conv2d {
    /// Whether `forward` and `backward` use Winograd's products: fewer channels would leave the products too thin
    /// to pay for the transforms.
    var usesWinograd: Bool { kernel == 3 && stride == 1 && padding == 1 && inChannels >= 8 && outChannels >= 8 }

    func winogradTiling(_ g: ConvolutionGeometry) -> WinogradTiling {
        WinogradTiling(height: g.height, width: g.width)
    }

    /// Images per chunk whose products (and transformed input) fit in 1 MB, so that they stay in cache between
    /// the products and the transforms (5 for fmnist-cnn's conv2: 16 × 64 × 49 floats an image).
    func winogradImagesPerChunk(_ g: ConvolutionGeometry) -> Int {
        let perImage = WinogradTiling.positions * max(inChannels, outChannels) * winogradTiling(g).tilesPerImage
        return max(1, (1 << 18) / perImage)
    }

    /// U = G g Gᵀ for the current weights ([16][out][in]).
    func transformedWeights() -> [Float] {
        weight.value.withUnsafeBufferPointer {
            WinogradTiling.transformWeights($0.baseAddress!, outChannels: outChannels, inChannels: inChannels)
        }
    }

    /// Each position's U transposed ([16][in][out]), for the input gradient's products.
    func transposedTransformedWeights() -> [Float] {
        let u = transformedWeights()
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

    /// A transformed matrix ([16][channels][stride]) written by `transform` for ranges of its channels, spread
    /// over the threads unless `serial`.
    private func transformed(
        channels: Int, stride: Int, serial: Bool,
        _ transform: (Range<Int>, UnsafeMutablePointer<Float>) -> Void
    ) -> [Float] {
        [Float](unsafeUninitializedCapacity: WinogradTiling.positions * channels * stride) { matrix, initialized in
            Parallel.forEach(channels, serial: serial) { transform($0, matrix.baseAddress!) }
            initialized = matrix.count
        }
    }

    /// One chunk's convolution (training's forward pass): writes the `imageCount` images' output planes (bias added)
    /// to `output`, or with `pooling` those planes 2×2 max-pooled and the maxima's positions to `pooling`
    /// (`forwardPooledTraining`), and returns their transformed input V ([16][in][tiles]), which the backward pass
    /// reads.
    func winogradChunk(
        _ input: UnsafePointer<Float>, imageCount: Int, tiling: WinogradTiling, weights u: UnsafePointer<Float>,
        bias: [Float]?, into output: UnsafeMutablePointer<Float>, pooling maximaAt: UnsafeMutablePointer<Int32>? = nil,
        serial: Bool
    ) -> [Float] {
        let (inChannels, outChannels) = (inChannels, outChannels)
        let tiles = imageCount * tiling.tilesPerImage
        let (positions, stride) = (WinogradTiling.positions, WinogradTiling.rowStride(tiles: tiles))
        let v = transformed(channels: inChannels, stride: stride, serial: serial) { channels, v in
            tiling.transformInput(
                input, imageCount: imageCount, channelCount: inChannels, channels: channels, into: v, stride: stride)
        }
        var m = [Float].scratch(count: positions * outChannels * stride)
        // The output transform's last lanes read (and drop) the columns past the tiles: zeros, not stale bits.
        m.withUnsafeMutableBufferPointer { m in
            for row in 0..<positions * outChannels {
                (m.baseAddress! + row * stride + tiles).update(repeating: 0, count: stride - tiles)
            }
        }
        v.withUnsafeBufferPointer { v in
            m.withUnsafeMutableBufferPointer { m in
                Parallel.forEach(positions, serial: serial) { range in
                    for position in range {
                        SmallGEMM.multiply(
                            m: outChannels, n: tiles, k: inChannels, a: u + position * outChannels * inChannels,
                            lda: inChannels, b: v.baseAddress! + position * inChannels * stride, ldb: stride,
                            c: m.baseAddress! + position * outChannels * stride, ldc: stride)
                    }
                }
                Parallel.forEach(outChannels, serial: serial) { channels in
                    guard let maximaAt else {
                        return tiling.transformOutput(
                            m.baseAddress!, stride: stride, outChannelCount: outChannels, channels: channels,
                            imageCount: imageCount, bias: bias, into: output)
                    }
                    tiling.transformOutputPooled(
                        m.baseAddress!, stride: stride, outChannelCount: outChannels, channels: channels,
                        imageCount: imageCount, bias: bias, into: output, positions: maximaAt)
                }
            }
        }
        return v
    }

    /// One chunk's backward pass from its output gradient (`imageCount` images' planes) and its forward pass's
    /// V: returns the chunk's weight gradient ([out, in, 3, 3]) and writes its input gradient to `inputGradient`
    /// when given. `ut` holds each position's U transposed ([16][in][out]).
    func winogradChunkGradient(
        _ outputGradient: UnsafePointer<Float>, imageCount: Int, tiling: WinogradTiling,
        transformedInput v: UnsafePointer<Float>, transposedWeights ut: UnsafePointer<Float>,
        inputGradient: UnsafeMutablePointer<Float>?, serial: Bool
    ) -> [Float] {
        let (inChannels, outChannels) = (inChannels, outChannels)
        let tiles = imageCount * tiling.tilesPerImage
        let (positions, stride) = (WinogradTiling.positions, WinogradTiling.rowStride(tiles: tiles))
        let dm = transformed(channels: outChannels, stride: stride, serial: serial) { channels, dm in
            tiling.transformOutputGradient(
                outputGradient, imageCount: imageCount, outChannelCount: outChannels, channels: channels, into: dm,
                stride: stride)
        }
        var du = [Float].scratch(count: positions * outChannels * inChannels)
        var dv = [Float].scratch(count: inputGradient == nil ? 0 : positions * inChannels * stride)
        dm.withUnsafeBufferPointer { dm in
            du.withUnsafeMutableBufferPointer { du in
                dv.withUnsafeMutableBufferPointer { dv in
                    Parallel.forEach(positions, serial: serial) { range in
                        for position in range {
                            let dmPosition = dm.baseAddress! + position * outChannels * stride
                            // ∂U = ∂M·Vᵀ through libxsmm, which has no transposed operands: V transposed first.
                            withUnsafeTemporaryAllocation(of: Float.self, capacity: tiles * inChannels) { vt in
                                SmallGEMM.transpose(
                                    rows: inChannels, columns: tiles, v + position * inChannels * stride, lda: stride,
                                    into: vt.baseAddress!, ldb: inChannels)
                                SmallGEMM.multiply(
                                    m: outChannels, n: inChannels, k: tiles, a: dmPosition, lda: stride,
                                    b: vt.baseAddress!, ldb: inChannels,
                                    c: du.baseAddress! + position * outChannels * inChannels, ldc: inChannels)
                            }
                            guard inputGradient != nil else { continue }
                            SmallGEMM.multiply(
                                m: inChannels, n: tiles, k: outChannels, a: ut + position * outChannels * inChannels,
                                lda: outChannels, b: dmPosition, ldb: stride,
                                c: dv.baseAddress! + position * inChannels * stride, ldc: stride)
                        }
                    }
                    guard let inputGradient else { return }
                    Parallel.forEach(inChannels, serial: serial) { channels in
                        tiling.inputGradient(
                            dv.baseAddress!, stride: stride, channelCount: inChannels, channels: channels,
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
