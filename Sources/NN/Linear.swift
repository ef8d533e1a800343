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
    public convenience init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, using generator: inout SeededGenerator)
    {
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

    public func forward(_ input: Tensor, mode: ForwardMode) -> Tensor {
        precondition(input.rank == 2 && input.shape[1] == inFeatures, "Linear(\(inFeatures)) got input \(input.shape)")
        self.input = input
        let rows = input.shape[0]
        var output = Tensor(shape: [rows, outFeatures]) { out in
            if let bias = bias?.value.scalars {
                for row in 0..<rows {
                    for column in 0..<outFeatures { out[row * outFeatures + column] = bias[column] }
                }
            } else {
                out.initialize(repeating: 0)
            }
        }
        input.withUnsafeBufferPointer { x in
            weight.value.withUnsafeBufferPointer { w in
                output.withUnsafeMutableBufferPointer { y in
                    BLAS.sgemm(
                        transposeA: false, transposeB: true, m: rows, n: outFeatures, k: inFeatures,
                        a: x.baseAddress!, lda: inFeatures, b: w.baseAddress!, ldb: inFeatures,
                        beta: 1, c: y.baseAddress!, ldc: outFeatures)
                }
            }
        }
        return output
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        let rows = input.shape[0]
        precondition(outputGradient.shape == [rows, outFeatures], "Linear backward got \(outputGradient.shape)")
        outputGradient.withUnsafeBufferPointer { dy in
            input.withUnsafeBufferPointer { x in
                weight.grad.withUnsafeMutableBufferPointer { dw in
                    BLAS.sgemm(
                        transposeA: true, transposeB: false, m: outFeatures, n: inFeatures, k: rows,
                        a: dy.baseAddress!, lda: outFeatures, b: x.baseAddress!, ldb: inFeatures,
                        beta: 1, c: dw.baseAddress!, ldc: inFeatures)
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
        return outputGradient.matmul(weight.value)
    }

    public func copy() -> Layer {
        Linear(weight: weight.value, bias: bias?.value)
    }
}
