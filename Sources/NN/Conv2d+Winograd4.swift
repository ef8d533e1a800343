import Tensor

/// Inference's Winograd convolutions: F(4×4, 3×3) (`Winograd4Tiling`), 36 products [out, in]·[in, tiles] per chunk
/// of images. Chunks are fixed by the shapes (`winograd4ImagesPerChunk`); each chunk's products run on one thread
/// (or, when a chunk runs alone, its products and its transforms' channels spread over the threads), so the bits do
/// not depend on the thread count, nor an image's on the batch it comes in.
extension Conv2d {
    func winograd4Tiling(_ g: ConvolutionGeometry) -> Winograd4Tiling {
        Winograd4Tiling(height: g.height, width: g.width)
    }

    /// Images per chunk whose products (and transformed input) fit in 1 MB (7 for fmnist-cnn's conv2: 36 × 64 ×
    /// 16 floats an image).
    func winograd4ImagesPerChunk(_ g: ConvolutionGeometry) -> Int {
        let perImage = Winograd4Tiling.positions * max(inChannels, outChannels) * winograd4Tiling(g).tilesPerImage
        return max(1, (1 << 18) / perImage)
    }

    /// U = G g Gᵀ for the current weights ([36][out][in]).
    func transformedWeights4() -> [Float] {
        weight.value.withUnsafeBufferPointer {
            Winograd4Tiling.transformWeights($0.baseAddress!, outChannels: outChannels, inChannels: inChannels)
        }
    }

    /// Inference through this convolution (no backward pass follows): its output, or with `pooled` its output
    /// 2×2 max-pooled and rectified (`forwardPooledReLU`).
    func forwardWinograd4(_ input: Tensor, pooled: Bool) -> Tensor {
        let g = geometry(input.shape)
        let batch = input.shape[0]
        let chunks = chunks(g, batch: batch, inference: true)
        let tiling = winograd4Tiling(g)
        inputShape = input.shape
        lastMultiplyAccumulates = batch * outChannels * g.rows * g.outputPlane
        let (height, width) = pooled ? (g.outputHeight / 2, g.outputWidth / 2) : (g.outputHeight, g.outputWidth)
        let u = transformedWeights4()
        let biasValues = bias?.value.scalars
        return Tensor(shape: [batch, outChannels, height, width]) { y in
            input.withUnsafeBufferPointer { x in
                u.withUnsafeBufferPointer { u in
                    biasValues.withOptionalPointer { bias in
                        Parallel.forEachTask(chunks.count) { index, inParallel in
                            let images = chunks[index]
                            winograd4Chunk(
                                x.baseAddress! + images.lowerBound * g.channels * g.height * g.width,
                                imageCount: images.count, tiling: tiling, weights: u.baseAddress!, bias: bias,
                                pooled: pooled, into: y.baseAddress! + images.lowerBound * outChannels * height * width,
                                serial: inParallel)
                        }
                    }
                }
            }
        }
    }

    /// One chunk's convolution (`imageCount` images from `input`): its output planes (bias added) into `output`,
    /// or with `pooled` those planes 2×2 max-pooled and rectified.
    func winograd4Chunk(
        _ input: UnsafePointer<Float>, imageCount: Int, tiling: Winograd4Tiling, weights u: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?, pooled: Bool, into output: UnsafeMutablePointer<Float>, serial: Bool
    ) {
        let (inChannels, outChannels, positions) = (inChannels, outChannels, Winograd4Tiling.positions)
        let tiles = imageCount * tiling.tilesPerImage
        let stride = Winograd4Tiling.rowStride(tiles: tiles)
        // V and M 64-byte aligned (their rows then are too: see `rowStride`).
        let v = UnsafeMutablePointer<Float>.allocate64(positions * inChannels * stride)
        let m = UnsafeMutablePointer<Float>.allocate64(positions * outChannels * stride)
        defer {
            v.deallocate()
            m.deallocate()
        }
        Parallel.forEach(inChannels, serial: serial) { channels in
            tiling.transformInput(
                input, imageCount: imageCount, channelCount: inChannels, channels: channels, into: v, stride: stride)
        }
        Parallel.forEach(positions, serial: serial) { range in
            for position in range {
                SmallGEMM.multiply(
                    m: outChannels, n: tiles, k: inChannels, a: u + position * outChannels * inChannels,
                    lda: inChannels, b: v + position * inChannels * stride, ldb: stride,
                    c: m + position * outChannels * stride, ldc: stride)
            }
        }
        Parallel.forEach(outChannels, serial: serial) { channels in
            tiling.transformOutput(
                m, stride: stride, outChannelCount: outChannels, channels: channels, imageCount: imageCount,
                bias: bias, pooled: pooled, into: output)
        }
    }
}

extension UnsafeMutablePointer where Pointee == Float {
    /// `count` uninitialised floats at a 64-byte boundary (a cache line, an AVX-512 vector).
    static func allocate64(_ count: Int) -> UnsafeMutablePointer<Float> {
        UnsafeMutableRawPointer.allocate(byteCount: count * MemoryLayout<Float>.size, alignment: 64)
            .bindMemory(to: Float.self, capacity: count)
    }
}
