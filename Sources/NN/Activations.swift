import Tensor

/// max(x, 0).
public final class ReLU: Layer {
    private var output = Tensor(zeros: [0])

    public init() {}

    public func forward(_ input: Tensor, mode: ForwardMode) -> Tensor {
        let result = Tensor(shape: input.shape) { out in
            input.withUnsafeBufferPointer { x in
                Parallel.forEach(x.count, grain: 1 << 16) { range in
                    Vectorized.relu(
                        x.baseAddress! + range.lowerBound, out.baseAddress! + range.lowerBound, count: range.count)
                }
            }
        }
        output = result
        return result
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        Tensor(shape: outputGradient.shape) { dx in
            outputGradient.withUnsafeBufferPointer { dy in
                output.withUnsafeBufferPointer { y in
                    Parallel.forEach(dy.count, grain: 1 << 16) { range in
                        let start = range.lowerBound
                        Vectorized.reluGradient(
                            dy.baseAddress! + start, output: y.baseAddress! + start, dx.baseAddress! + start,
                            count: range.count)
                    }
                }
            }
        }
    }

    public func copy() -> Layer { ReLU() }
}

/// x where x > 0, else slope·x (PyTorch's `nn.LeakyReLU(negative_slope)`; the gradient at 0 is the slope's).
public final class LeakyReLU: Layer {
    public let slope: Float
    private var input = Tensor(zeros: [0])

    public init(slope: Float = 0.01) { self.slope = slope }

    public func forward(_ input: Tensor, mode: ForwardMode) -> Tensor {
        self.input = input
        let slope = slope
        return Tensor(shape: input.shape) { y in
            input.withUnsafeBufferPointer { x in
                Parallel.forEach(x.count, grain: 1 << 16) { range in
                    for i in range { y[i] = x[i] > 0 ? x[i] : slope * x[i] }
                }
            }
        }
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        let slope = slope
        return Tensor(shape: outputGradient.shape) { dx in
            outputGradient.withUnsafeBufferPointer { dy in
                input.withUnsafeBufferPointer { x in
                    Parallel.forEach(dy.count, grain: 1 << 16) { range in
                        for i in range { dx[i] = x[i] > 0 ? dy[i] : slope * dy[i] }
                    }
                }
            }
        }
    }

    public func copy() -> Layer { LeakyReLU(slope: slope) }
}

/// Collapses every dimension after the first: [N, …] → [N, product].
public final class Flatten: Layer {
    private var inputShape: [Int] = []

    public init() {}

    public func forward(_ input: Tensor, mode: ForwardMode) -> Tensor {
        inputShape = input.shape
        return input.reshaped([input.shape[0], input.shape.dropFirst().reduce(1, *)])
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        outputGradient.reshaped(inputShape)
    }

    public func copy() -> Layer { Flatten() }
}

/// Gives the features of each row a shape: [N, product] → [N] + `shape` (PyTorch's `nn.Unflatten(1, shape)`,
/// or `x.view(-1, *shape)`).
public final class Unflatten: Layer {
    public let shape: [Int]

    public init(_ shape: [Int]) { self.shape = shape }

    public func forward(_ input: Tensor, mode: ForwardMode) -> Tensor {
        precondition(
            input.shape.dropFirst().reduce(1, *) == shape.reduce(1, *), "Unflatten(\(shape)) got \(input.shape)")
        return input.reshaped([input.shape[0]] + shape)
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        outputGradient.reshaped([outputGradient.shape[0], shape.reduce(1, *)])
    }

    public func copy() -> Layer { Unflatten(shape) }
}

/// Zeroes each element with probability p in training and scales the rest by 1/(1−p); identity in eval.
/// The mask comes from the pass's seed and this layer's salt, so shards and replicas agree.
public final class Dropout: Layer {
    public let probability: Float
    public let salt: UInt64
    private var mask: [Float] = []

    public init(probability: Float = 0.5, salt: UInt64 = 0) {
        precondition(probability >= 0 && probability < 1, "dropout probability must be in [0, 1)")
        self.probability = probability
        self.salt = salt
    }

    public func forward(_ input: Tensor, mode: ForwardMode) -> Tensor {
        guard mode.isTraining, probability > 0 else {
            mask = []
            return input
        }
        var generator = SeededGenerator(seed: mode.seed, stream: "dropout-\(salt)")
        let keep = 1 / (1 - probability)
        mask = (0..<input.count).map { _ in generator.nextUnitFloat() < probability ? 0 : keep }
        return Tensor(shape: input.shape, scalars: zip(input.scalars, mask).map { $0 * $1 })
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        guard !mask.isEmpty else { return outputGradient }
        return Tensor(shape: outputGradient.shape, scalars: zip(outputGradient.scalars, mask).map { $0 * $1 })
    }

    public func copy() -> Layer { Dropout(probability: probability, salt: salt) }
}
