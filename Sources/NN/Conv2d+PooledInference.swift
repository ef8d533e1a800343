import CKernels
import Tensor

extension Conv2d {
    /// Whether `forwardPooledReLU` can run this convolution with `pool` after it on input of `shape`: a 2×2,
    /// stride-2 window without padding over planes of even width (`MaxPool2x2`).
    func poolsInPlace(_ pool: MaxPool2d, inputShape shape: [Int]) -> Bool {
        guard pool.kernel == 2, pool.stride == 2, pool.padding == 0, shape.count == 4, shape[1] == inChannels
        else { return false }
        return geometry(shape).outputWidth % 2 == 0
    }

    /// Inference (no backward pass follows) through this convolution, a 2×2 max-pool and a ReLU, one image at a
    /// time (a chunk at a time with Winograd's products, pooled inside the output transform: `forwardWinograd`):
    /// each image's column matrix, product and pooled planes stay in cache instead of passing through batch-sized
    /// tensors layer by layer. The same products of the same values (one GEMM per image, the column matrix's
    /// leading dimension aside; Winograd's chunks as `forward`'s), bias additions, pooling and ReLU as `forward`,
    /// `MaxPool2d` and `ReLU` one after the other, so the same bits.
    func forwardPooledReLU(_ input: Tensor) -> Tensor {
        if usesWinograd { return forwardWinograd(input, pooled: true) }
        let g = geometry(input.shape)
        let (batch, plane, outChannels) = (input.shape[0], g.outputPlane, outChannels)
        let (outH, planeOut) = (g.outputHeight / 2, g.outputHeight / 2 * g.outputWidth / 2)
        let chunks = chunks(g, batch: batch)
        inputShape = input.shape
        lastMultiplyAccumulates = batch * outChannels * g.rows * plane
        let biasValues = bias?.value.scalars
        return Tensor(shape: [batch, outChannels, outH, g.outputWidth / 2]) { y in
            input.withUnsafeBufferPointer { x in
                weight.value.withUnsafeBufferPointer { w in
                    Parallel.forEachTask(chunks.count) { index, inParallel in
                        let images = chunks[index]
                        guard !usesDirect(g) else {
                            biasValues.withOptionalPointer { biases in
                                directImages(
                                    x.baseAddress!, images: images, g, weights: w.baseAddress!, bias: biases,
                                    into: y.baseAddress!, pooled: true)
                            }
                            return
                        }
                        var product = [Float].scratch(count: outChannels * plane)
                        product.withUnsafeMutableBufferPointer { c in
                            biasValues.withOptionalPointer { biases in
                                for image in images {
                                    let column = g.im2col(x, images: image..<image + 1, serial: true)
                                    column.withUnsafeBufferPointer { col in
                                        BLAS.sgemm(
                                            transposeA: false, transposeB: false, m: outChannels, n: plane, k: g.rows,
                                            a: w.baseAddress!, lda: g.rows, b: col.baseAddress!, ldb: plane,
                                            c: c.baseAddress!, ldc: plane)
                                    }
                                    let pooled = y.baseAddress! + image * outChannels * planeOut
                                    for o in 0..<outChannels {
                                        // The bias added as the pooling reads each element (as `forward` adds it).
                                        lethe_biased_max_pool_2x2(
                                            c.baseAddress! + o * plane, g.outputWidth, outH, biases.map { $0 + o },
                                            pooled + o * planeOut)
                                    }
                                    Vectorized.relu(pooled, pooled, count: outChannels * planeOut)
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

extension Optional where Wrapped == [Float] {
    /// `body` with a pointer to the array's elements, or nil when there is no array.
    func withOptionalPointer<Result>(_ body: (UnsafePointer<Float>?) -> Result) -> Result {
        guard let array = self else { return body(nil) }
        return array.withUnsafeBufferPointer { body($0.baseAddress) }
    }
}
