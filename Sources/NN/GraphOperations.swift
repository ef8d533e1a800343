import Tensor

/// The graph nodes that are not layers of their own: sums, concatenation, reshaping and products with a weight
/// matrix (combinations with constants: `ConstantOperation`).

/// x + y for two computed values of the same shape; the gradient goes to both unchanged.
final class AddOperation: GraphOperation {
    func forward(_ inputs: [Tensor], mode: ForwardMode) -> Tensor {
        precondition(inputs[0].shape == inputs[1].shape, "Add of \(inputs[0].shape) and \(inputs[1].shape)")
        var sum = inputs[0]
        sum.add(inputs[1])
        return sum
    }

    func backward(_ outputGradient: Tensor) -> [Tensor] { [outputGradient, outputGradient] }
    func copy() -> GraphOperation { AddOperation() }
}

/// x + b with a trainable `bias` repeated over the leading dimensions of x (NumPy broadcasting of a trailing
/// shape, as in `x @ W + b`).
final class BiasAddOperation: GraphOperation {
    let bias: Parameter
    let name: String

    init(bias: Parameter, name: String) {
        self.bias = bias
        self.name = name
    }

    var namedState: [(name: String, parameter: Parameter)] { [(name: name, parameter: bias)] }

    func forward(_ inputs: [Tensor], mode: ForwardMode) -> Tensor {
        let b = bias.value.scalars
        precondition(inputs[0].count % max(1, b.count) == 0, "bias of \(b.count) for \(inputs[0].shape)")
        var output = inputs[0]
        output.withUnsafeMutableBufferPointer { y in
            for i in 0..<y.count { y[i] += b[i % b.count] }
        }
        return output
    }

    func backward(_ outputGradient: Tensor) -> [Tensor] {
        let count = bias.value.count
        bias.grad.withUnsafeMutableBufferPointer { db in
            outputGradient.withUnsafeBufferPointer { dy in
                for i in 0..<dy.count { db[i % count] += dy[i] }
            }
        }
        return [outputGradient]
    }

    func copy() -> GraphOperation {
        BiasAddOperation(bias: Parameter(bias.value), name: name)
    }
}

/// Concatenation along `axis` (1 = channels or features; the batch axis 0 is never concatenated).
final class ConcatOperation: GraphOperation {
    let axis: Int
    private var sizes: [Int] = []
    private var shapes: [[Int]] = []

    init(axis: Int) {
        precondition(axis >= 1, "Concat never joins along the batch axis")
        self.axis = axis
    }

    func forward(_ inputs: [Tensor], mode: ForwardMode) -> Tensor {
        shapes = inputs.map(\.shape)
        let outer = inputs[0].shape[..<axis].reduce(1, *)
        // Each input contributes a contiguous block of `size` scalars per outer index.
        sizes = inputs.map { $0.shape[axis...].reduce(1, *) }
        let total = sizes.reduce(0, +)
        var shape = inputs[0].shape
        shape[axis] = inputs.reduce(0) { $0 + $1.shape[axis] }
        let sizes = sizes
        return Tensor(shape: shape) { y in
            var start = 0
            for (input, size) in zip(inputs, sizes) {
                input.withUnsafeBufferPointer { x in
                    for o in 0..<outer {
                        (y.baseAddress! + o * total + start).update(from: x.baseAddress! + o * size, count: size)
                    }
                }
                start += size
            }
        }
    }

    func backward(_ outputGradient: Tensor) -> [Tensor] {
        let total = sizes.reduce(0, +)
        let outer = outputGradient.count / max(1, total)
        var start = 0
        return zip(shapes, sizes).map { shape, size in
            defer { start += size }
            let begin = start
            return Tensor(shape: shape) { dx in
                outputGradient.withUnsafeBufferPointer { dy in
                    for o in 0..<outer {
                        (dx.baseAddress! + o * size).update(from: dy.baseAddress! + o * total + begin, count: size)
                    }
                }
            }
        }
    }

    func copy() -> GraphOperation { ConcatOperation(axis: axis) }
}

/// A new per-sample shape for the same scalars (ONNX `Reshape` with a constant shape, and `Flatten`):
/// [N] + `inputShape` → [N] + `outputShape`.
final class ReshapeOperation: GraphOperation {
    let inputShape: [Int]
    let outputShape: [Int]

    init(from inputShape: [Int], to outputShape: [Int]) {
        precondition(inputShape.reduce(1, *) == outputShape.reduce(1, *), "Reshape \(inputShape) to \(outputShape)")
        self.inputShape = inputShape
        self.outputShape = outputShape
    }

    func forward(_ inputs: [Tensor], mode: ForwardMode) -> Tensor {
        inputs[0].reshaped([inputs[0].shape[0]] + outputShape)
    }

    func backward(_ outputGradient: Tensor) -> [Tensor] {
        [outputGradient.reshaped([outputGradient.shape[0]] + inputShape)]
    }

    func copy() -> GraphOperation { ReshapeOperation(from: inputShape, to: outputShape) }
}

/// The value unchanged (ONNX `Identity`).
final class IdentityOperation: GraphOperation {
    func forward(_ inputs: [Tensor], mode: ForwardMode) -> Tensor { inputs[0] }
    func backward(_ outputGradient: Tensor) -> [Tensor] { [outputGradient] }
    func copy() -> GraphOperation { IdentityOperation() }
}

/// x · W for [N, K] features and a trainable [K, M] weight stored as the graph stores it (ONNX `MatMul` with an
/// initializer, PyTorch's `x @ self.weight`).
final class MatMulOperation: GraphOperation {
    let weight: Parameter
    let name: String
    private var input = Tensor(zeros: [0])

    init(weight: Tensor, name: String) {
        precondition(weight.rank == 2, "MatMul weight must be [K, M], got \(weight.shape)")
        self.weight = Parameter(weight)
        self.name = name
    }

    var namedState: [(name: String, parameter: Parameter)] { [(name: name, parameter: weight)] }

    func forward(_ inputs: [Tensor], mode: ForwardMode) -> Tensor {
        input = inputs[0]
        return inputs[0].matmul(weight.value)
    }

    func backward(_ outputGradient: Tensor) -> [Tensor] {
        weight.grad.add(input.matmul(outputGradient, transposeSelf: true))
        return [outputGradient.matmul(weight.value, transposeOther: true)]
    }

    func copy() -> GraphOperation { MatMulOperation(weight: weight.value, name: name) }
}
