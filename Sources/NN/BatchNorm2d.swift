import Tensor

/// Batch normalisation over the channels of NCHW input (PyTorch's `nn.BatchNorm2d`): batch statistics
/// and a running-average update in training (biased variance to normalise, unbiased for the running
/// estimate), running statistics in evaluation.
public final class BatchNorm2d: Layer {
    public let weight: Parameter
    public let bias: Parameter
    public let runningMean: Parameter
    public let runningVar: Parameter
    public let batchesTracked: Parameter
    public let epsilon: Float
    public let momentum: Float

    /// What a training-mode forward pass measured: the batch mean and biased variance per channel, and the
    /// factor that makes the variance unbiased for the running estimate.
    public struct BatchStatistics: Sendable, Equatable {
        public var mean: [Float]
        public var variance: [Float]
        public var unbiased: Float

        public init(mean: [Float], variance: [Float], unbiased: Float) {
            self.mean = mean
            self.variance = variance
            self.unbiased = unbiased
        }
    }

    /// The statistics of the last training-mode forward pass.
    public private(set) var lastBatchStatistics: BatchStatistics?

    private var normalized = Tensor(zeros: [0])
    private var inverseStd: [Float] = []
    private var wasTraining = false

    public init(_ channels: Int, epsilon: Float = 1e-5, momentum: Float = 0.1) {
        weight = Parameter(Tensor(repeating: 1, shape: [channels]))
        bias = Parameter(Tensor(zeros: [channels]))
        runningMean = Parameter(Tensor(zeros: [channels]), trainable: false)
        runningVar = Parameter(Tensor(repeating: 1, shape: [channels]), trainable: false)
        batchesTracked = Parameter(Tensor(zeros: []), trainable: false)
        self.epsilon = epsilon
        self.momentum = momentum
    }

    public var channels: Int { weight.value.count }

    public var namedState: [(name: String, parameter: Parameter)] {
        [
            ("weight", weight), ("bias", bias), ("running_mean", runningMean), ("running_var", runningVar),
            ("num_batches_tracked", batchesTracked),
        ]
    }

    public func copy() -> Layer {
        let layer = BatchNorm2d(channels, epsilon: epsilon, momentum: momentum)
        copyState(from: self, to: layer)
        return layer
    }

    /// The running-average update of one training-mode batch (what `forward` does in training mode).
    public func updateRunningStatistics(with statistics: BatchStatistics) {
        for c in 0..<channels {
            runningMean.value.scalars[c] =
                (1 - momentum) * runningMean.value.scalars[c] + momentum * statistics.mean[c]
            runningVar.value.scalars[c] =
                (1 - momentum) * runningVar.value.scalars[c] + momentum * statistics.variance[c] * statistics.unbiased
        }
        batchesTracked.value.scalars[0] += 1
    }

    public func forward(_ input: Tensor, mode: ForwardMode) -> Tensor {
        precondition(input.rank == 4 && input.shape[1] == channels, "BatchNorm2d(\(channels)) got \(input.shape)")
        let (batch, plane) = (input.shape[0], input.shape[2] * input.shape[3])
        let count = batch * plane
        var mean = [Float](repeating: 0, count: channels)
        var variance = [Float](repeating: 0, count: channels)
        wasTraining = mode.isTraining
        if mode.isTraining {
            precondition(count > 1, "BatchNorm2d in training needs more than one value per channel")
            input.withUnsafeBufferPointer { x in
                for c in 0..<channels {
                    var total = 0.0
                    for n in 0..<batch {
                        let base = (n * channels + c) * plane
                        for i in 0..<plane { total += Double(x[base + i]) }
                    }
                    let m = total / Double(count)
                    var squares = 0.0
                    for n in 0..<batch {
                        let base = (n * channels + c) * plane
                        for i in 0..<plane {
                            let d = Double(x[base + i]) - m
                            squares += d * d
                        }
                    }
                    mean[c] = Float(m)
                    variance[c] = Float(squares / Double(count))
                }
            }
            let statistics = BatchStatistics(
                mean: mean, variance: variance, unbiased: Float(count) / Float(count - 1))
            lastBatchStatistics = statistics
            updateRunningStatistics(with: statistics)
        } else {
            mean = runningMean.value.scalars
            variance = runningVar.value.scalars
        }
        inverseStd = variance.map { 1 / ($0 + epsilon).squareRoot() }
        let gamma = weight.value.scalars
        let beta = bias.value.scalars
        let inverseStd = inverseStd
        var normalizedOut = Tensor(zeros: input.shape)
        let output = Tensor(shape: input.shape) { y in
            input.withUnsafeBufferPointer { x in
                normalizedOut.withUnsafeMutableBufferPointer { xhat in
                    Parallel.forEach(batch * channels, grain: 8) { range in
                        for item in range {
                            let c = item % channels
                            let base = item * plane
                            for i in 0..<plane {
                                let h = (x[base + i] - mean[c]) * inverseStd[c]
                                xhat[base + i] = h
                                y[base + i] = h * gamma[c] + beta[c]
                            }
                        }
                    }
                }
            }
        }
        normalized = normalizedOut
        return output
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        let shape = normalized.shape
        let (batch, plane) = (shape[0], shape[2] * shape[3])
        let count = Float(batch * plane)
        var sumDy = [Float](repeating: 0, count: channels)
        var sumDyXhat = [Float](repeating: 0, count: channels)
        outputGradient.withUnsafeBufferPointer { dy in
            normalized.withUnsafeBufferPointer { xhat in
                for c in 0..<channels {
                    var a = 0.0
                    var b = 0.0
                    for n in 0..<batch {
                        let base = (n * channels + c) * plane
                        for i in 0..<plane {
                            a += Double(dy[base + i])
                            b += Double(dy[base + i] * xhat[base + i])
                        }
                    }
                    sumDy[c] = Float(a)
                    sumDyXhat[c] = Float(b)
                }
            }
        }
        for c in 0..<channels {
            weight.grad.scalars[c] += sumDyXhat[c]
            bias.grad.scalars[c] += sumDy[c]
        }
        let gamma = weight.value.scalars
        let inverseStd = inverseStd
        let training = wasTraining
        return Tensor(shape: shape) { dx in
            outputGradient.withUnsafeBufferPointer { dy in
                normalized.withUnsafeBufferPointer { xhat in
                    Parallel.forEach(batch * channels, grain: 8) { range in
                        for item in range {
                            let c = item % channels
                            let base = item * plane
                            let scale = gamma[c] * inverseStd[c]
                            if training {
                                let meanDy = sumDy[c] / count
                                let meanDyXhat = sumDyXhat[c] / count
                                for i in 0..<plane {
                                    dx[base + i] = scale * (dy[base + i] - meanDy - xhat[base + i] * meanDyXhat)
                                }
                            } else {
                                for i in 0..<plane { dx[base + i] = scale * dy[base + i] }
                            }
                        }
                    }
                }
            }
        }
    }
}
