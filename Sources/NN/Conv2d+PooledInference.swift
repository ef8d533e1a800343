import Tensor

extension Conv2d {
    /// Whether `forwardPooledReLU` can run this convolution with `pool` after it on input of `shape`: a 2×2,
    /// stride-2 window without padding over planes of even width (`MaxPool2x2`).
    func poolsInPlace(_ pool: MaxPool2d, inputShape shape: [Int]) -> Bool {
        guard pool.kernel == 2, pool.stride == 2, pool.padding == 0, shape.count == 4, shape[1] == inChannels
        else { return false }
        return geometry(shape).outputWidth % 2 == 0
    }

    /// Inference (no backward pass follows) through this convolution, a 2×2 max-pool and a ReLU, a few images at
    /// a time (`pooledGroups`): each group's column matrix, product and pooled planes stay in cache instead of
    /// passing through batch-sized tensors layer by layer, and one GEMM covers the group (packing the weights
    /// once for it). Every output element is the same sum over the same values as in `forward` (a product's
    /// columns do not change each other's sums), followed by the same bias additions, pooling and ReLU as
    /// `forward`, `MaxPool2d` and `ReLU` one after the other, so the same bits.
    func forwardPooledReLU(_ input: Tensor) -> Tensor {
        let g = geometry(input.shape)
        let (batch, plane, outChannels) = (input.shape[0], g.outputPlane, outChannels)
        let (outH, planeOut) = (g.outputHeight / 2, g.outputHeight / 2 * g.outputWidth / 2)
        let chunks = chunks(g, batch: batch)
        let groupSize = pooledGroupSize(g)
        inputShape = input.shape
        lastMultiplyAccumulates = batch * outChannels * g.rows * plane
        let biasValues = bias?.value.scalars
        return Tensor(shape: [batch, outChannels, outH, g.outputWidth / 2]) { y in
            input.withUnsafeBufferPointer { x in
                weight.value.withUnsafeBufferPointer { w in
                    Parallel.forEachTask(chunks.count) { index, _ in
                        var product = [Float].scratch(count: outChannels * plane * groupSize)
                        product.withUnsafeMutableBufferPointer { c in
                            withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * planeOut) { pairs in
                                withUnsafeTemporaryAllocation(of: Int32.self, capacity: 2 * planeOut) { positions in
                                    let chunk = chunks[index]
                                    for start in Swift.stride(
                                        from: chunk.lowerBound, to: chunk.upperBound, by: groupSize)
                                    {
                                        let images = start..<min(start + groupSize, chunk.upperBound)
                                        let width = images.count * plane
                                        let column = g.im2col(x, images: images, serial: true)
                                        column.withUnsafeBufferPointer { col in
                                            BLAS.sgemm(
                                                transposeA: false, transposeB: false, m: outChannels, n: width,
                                                k: g.rows, a: w.baseAddress!, lda: g.rows, b: col.baseAddress!,
                                                ldb: width, c: c.baseAddress!, ldc: width)
                                        }
                                        for (n, image) in images.enumerated() {
                                            let pooled = y.baseAddress! + image * outChannels * planeOut
                                            for o in 0..<outChannels {
                                                let channel = c.baseAddress! + o * width + n * plane
                                                if let biasValues {
                                                    Vectorized.add(biasValues[o], to: channel, count: plane)
                                                }
                                                MaxPool2x2.pool(
                                                    channel, width: g.outputWidth, outH: outH,
                                                    into: pooled + o * planeOut, positions: nil,
                                                    pairs: pairs.baseAddress!, pairPositions: positions.baseAddress!)
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
    }

    /// Images per product in `forwardPooledReLU`: as many as keep a group's column matrix and product within
    /// ~1 MB (at least one).
    func pooledGroupSize(_ g: ConvolutionGeometry) -> Int {
        max(1, (1 << 18) / max(1, (g.rows + outChannels) * g.outputPlane))
    }
}
