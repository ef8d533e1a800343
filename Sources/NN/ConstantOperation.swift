import Tensor

/// A computed value combined element-wise with a constant broadcast over each sample (NumPy rules): x + c, x − c,
/// x · c or x / c, as PyTorch exports `x * 0.5` or a normalisation `(x - mean) / std`. The constant is a `Constant`
/// node's value (no name) or an initializer kept as a buffer under its name. Gradients flow to x only.
final class ConstantOperation: GraphOperation {
    enum Kind: Sendable {
        case add, subtract, multiply, divide
    }

    let kind: Kind
    let constant: Parameter
    let name: String?
    /// For each element of one sample, the index of the constant's element it meets.
    private let broadcast: [Int]

    /// nil when `constant`'s shape does not broadcast to [N] + `sampleShape` without touching the batch axis.
    init?(_ kind: Kind, constant: Tensor, name: String?, sampleShape: [Int]) {
        var shape = constant.shape
        if shape.count == sampleShape.count + 1 {
            guard shape.first == 1 else { return nil }
            shape.removeFirst()
        }
        guard shape.count <= sampleShape.count else { return nil }
        let aligned = [Int](repeating: 1, count: sampleShape.count - shape.count) + shape
        guard zip(aligned, sampleShape).allSatisfy({ $0 == 1 || $0 == $1 }) else { return nil }
        // Row-major strides of the constant, 0 along broadcast axes.
        var strides = [Int](repeating: 0, count: aligned.count)
        var stride = 1
        for axis in aligned.indices.reversed() {
            strides[axis] = aligned[axis] == 1 ? 0 : stride
            stride *= aligned[axis]
        }
        let count = sampleShape.reduce(1, *)
        broadcast = (0..<count).map { index in
            var (remainder, offset) = (index, 0)
            for axis in sampleShape.indices.reversed() {
                offset += (remainder % sampleShape[axis]) * strides[axis]
                remainder /= sampleShape[axis]
            }
            return offset
        }
        self.kind = kind
        self.constant = Parameter(constant, trainable: false)
        self.name = name
    }

    private init(kind: Kind, constant: Parameter, name: String?, broadcast: [Int]) {
        self.kind = kind
        self.constant = constant
        self.name = name
        self.broadcast = broadcast
    }

    var namedState: [(name: String, parameter: Parameter)] { name.map { [(name: $0, parameter: constant)] } ?? [] }

    func forward(_ inputs: [Tensor], mode: ForwardMode) -> Tensor {
        let (c, map, kind) = (constant.value.scalars, broadcast, kind)
        var output = inputs[0]
        output.withUnsafeMutableBufferPointer { y in
            for i in 0..<y.count {
                let value = c[map[i % map.count]]
                switch kind {
                case .add: y[i] += value
                case .subtract: y[i] -= value
                case .multiply: y[i] *= value
                case .divide: y[i] /= value
                }
            }
        }
        return output
    }

    func backward(_ outputGradient: Tensor) -> [Tensor] {
        guard kind == .multiply || kind == .divide else { return [outputGradient] }
        let (c, map, kind) = (constant.value.scalars, broadcast, kind)
        var gradient = outputGradient
        gradient.withUnsafeMutableBufferPointer { dx in
            for i in 0..<dx.count {
                let value = c[map[i % map.count]]
                dx[i] = kind == .multiply ? dx[i] * value : dx[i] / value
            }
        }
        return [gradient]
    }

    func copy() -> GraphOperation {
        ConstantOperation(
            kind: kind, constant: Parameter(constant.value, trainable: false), name: name, broadcast: broadcast)
    }
}
