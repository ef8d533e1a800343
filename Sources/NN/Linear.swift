import Tensor

/// y = x · Wᵀ + b, with W of shape [out, in] (PyTorch's `nn.Linear`).
public final class Linear: Layer {
    public let weight: Parameter
    public let bias: Parameter?
    private var input = Tensor(zeros: [0])
    public var lastMultiplyAccumulates: Int { input.count * outFeatures }

    public init(weight: Tensor, bias: Tensor?) {
        precondition(weight.rank == 2, "Linear weight must be [out, in], got \(weight.shape)")
        self.weight = Parameter(weight)
        self.bias = bias.map { Parameter($0) }
    }

    /// PyTorch's default initialisation: Kaiming-uniform (a = √5) weights, uniform(±1/√in) bias.
    public convenience init(
        _ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, using generator: inout SeededGenerator
    ) {
        let bound = 1 / Float(inFeatures).squareRoot()
        let weight = Tensor.uniform(shape: [outFeatures, inFeatures], in: -bound..<bound, using: &generator)
        let biasValue = bias ? Tensor.uniform(shape: [outFeatures], in: -bound..<bound, using: &generator) : nil
        self.init(weight: weight, bias: biasValue)
    }

    public var inFeatures: Int { weight.value.shape[1] }
    public var outFeatures: Int { weight.value.shape[0] }

    public var namedState: [(name: String, parameter: Parameter)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }

    /// Rows an inference product takes at a time: a multiple of every OpenBLAS kernel set's vector rows.
    static let inferenceRows = 16

    /// Evaluation (inference, or ahead of an input gradient): y = (W·xᵀ)ᵀ + b over blocks of `inferenceRows` rows
    /// (the last one padded with zero rows), every block the same single-threaded GEMM with the rows as the kernel's
    /// vector lanes, so that a row's output is the same bits whatever batch it comes in and wherever in it. (With the
    /// rows as the other operand, or blocks sized by the batch, a row's place picks how the FMA kernels round it:
    /// predictions of a subset would differ from a whole pass's in the low bits.)
    func infer(_ input: Tensor) -> Tensor {
        let (rows, inFeatures, outFeatures, block) = (input.shape[0], inFeatures, outFeatures, Self.inferenceRows)
        let biasValues = bias?.value.scalars ?? [Float](repeating: 0, count: outFeatures)
        var output = Tensor(shape: [rows, outFeatures], scalars: .scratch(count: rows * outFeatures))
        input.withUnsafeBufferPointer { x in
            weight.value.withUnsafeBufferPointer { w in
                output.withUnsafeMutableBufferPointer { y in
                    Parallel.forEachTask((rows + block - 1) / block) { index, _ in
                        let (first, count) = (index * block, min(block, rows - index * block))
                        var padded = [Float](repeating: 0, count: count == block ? 0 : block * inFeatures)
                        var product = [Float].scratch(count: outFeatures * block)  // [out, block]
                        padded.withUnsafeMutableBufferPointer { padded in
                            product.withUnsafeMutableBufferPointer { product in
                                var source = x.baseAddress! + first * inFeatures
                                if count < block {
                                    padded.baseAddress!.update(from: source, count: count * inFeatures)
                                    source = UnsafePointer(padded.baseAddress!)
                                }
                                for column in 0..<outFeatures {
                                    for row in 0..<block { product[column * block + row] = biasValues[column] }
                                }
                                BLAS.sgemm(
                                    transposeA: false, transposeB: true, m: outFeatures, n: block, k: inFeatures,
                                    a: w.baseAddress!, lda: inFeatures, b: source, ldb: inFeatures, beta: 1,
                                    c: product.baseAddress!, ldc: block)
                                let target = y.baseAddress! + first * outFeatures
                                for row in 0..<count {
                                    for column in 0..<outFeatures {
                                        target[row * outFeatures + column] = product[column * block + row]
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return output
    }

    /// Rows of the batch (forward, ∂input) and of the weight (∂weight) are split into pieces fixed by the
    /// shapes (see `Partition`), each a single-threaded GEMM on one of the threads.
    public func forward(_ input: Tensor, mode: ForwardMode) -> Tensor {
        precondition(input.rank == 2 && input.shape[1] == inFeatures, "Linear(\(inFeatures)) got input \(input.shape)")
        self.input = input
        if !mode.isTraining { return infer(input) }
        let (rows, inFeatures, outFeatures) = (input.shape[0], inFeatures, outFeatures)
        let biasValues = bias?.value.scalars
        let pieces = Partition.pieces(rows, minimumSize: 32)
        var output = Tensor(shape: [rows, outFeatures], scalars: .scratch(count: rows * outFeatures))
        input.withUnsafeBufferPointer { x in
            weight.value.withUnsafeBufferPointer { w in
                output.withUnsafeMutableBufferPointer { y in
                    Parallel.forEachTask(pieces.count) { index, _ in
                        let piece = pieces[index]
                        let out = y.baseAddress! + piece.lowerBound * outFeatures
                        for row in 0..<piece.count {
                            for column in 0..<outFeatures { out[row * outFeatures + column] = biasValues?[column] ?? 0 }
                        }
                        BLAS.sgemm(
                            transposeA: false, transposeB: true, m: piece.count, n: outFeatures, k: inFeatures,
                            a: x.baseAddress! + piece.lowerBound * inFeatures, lda: inFeatures, b: w.baseAddress!,
                            ldb: inFeatures, beta: 1, c: out, ldc: outFeatures)
                    }
                }
            }
        }
        return output
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        let (rows, inFeatures, outFeatures) = (input.shape[0], inFeatures, outFeatures)
        precondition(outputGradient.shape == [rows, outFeatures], "Linear backward got \(outputGradient.shape)")
        let weightPieces = Partition.pieces(outFeatures, minimumSize: 32)
        let rowPieces = Partition.pieces(rows, minimumSize: 32)
        var inputGradient = Tensor(shape: [rows, inFeatures], scalars: .scratch(count: rows * inFeatures))
        outputGradient.withUnsafeBufferPointer { dy in
            input.withUnsafeBufferPointer { x in
                weight.grad.withUnsafeMutableBufferPointer { dw in
                    Parallel.forEachTask(weightPieces.count) { index, _ in
                        let piece = weightPieces[index]
                        BLAS.sgemm(
                            transposeA: true, transposeB: false, m: piece.count, n: inFeatures, k: rows,
                            a: dy.baseAddress! + piece.lowerBound, lda: outFeatures, b: x.baseAddress!, ldb: inFeatures,
                            beta: 1, c: dw.baseAddress! + piece.lowerBound * inFeatures, ldc: inFeatures)
                    }
                }
            }
            weight.value.withUnsafeBufferPointer { w in
                inputGradient.withUnsafeMutableBufferPointer { dx in
                    Parallel.forEachTask(rowPieces.count) { index, _ in
                        let piece = rowPieces[index]
                        BLAS.sgemm(
                            transposeA: false, transposeB: false, m: piece.count, n: inFeatures, k: outFeatures,
                            a: dy.baseAddress! + piece.lowerBound * outFeatures, lda: outFeatures, b: w.baseAddress!,
                            ldb: inFeatures, c: dx.baseAddress! + piece.lowerBound * inFeatures, ldc: inFeatures)
                    }
                }
            }
            if let bias {
                bias.grad.withUnsafeMutableBufferPointer { db in
                    for row in 0..<rows {
                        for column in 0..<outFeatures { db[column] += dy[row * outFeatures + column] }
                    }
                }
            }
        }
        return inputGradient
    }

    public func copy() -> Layer {
        Linear(weight: weight.value, bias: bias?.value)
    }
}
