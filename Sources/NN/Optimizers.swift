import Foundation
import Tensor

/// Updates parameters from their accumulated gradients. State (momentum, moments) is kept by parameter
/// name so it can be saved and restored with a checkpoint.
public protocol Optimizer: AnyObject {
    var learningRate: Float { get set }
    /// Applies one step to each of `parameters` using its `grad`; state is kept under the given names.
    func update(parameters: [(name: String, parameter: Parameter)])
    /// Per-parameter state tensors (e.g. `fc1.weight.momentum`), for persistence.
    var state: [String: Tensor] { get set }
}

extension Optimizer {
    /// Applies one step to every trainable parameter of `model` using its `grad`.
    public func update(model: Model) { update(parameters: model.namedParameters) }
}

/// Stochastic gradient descent with PyTorch's semantics: weight decay added to the gradient, momentum
/// buffer started at the first gradient, optional Nesterov momentum and dampening.
public final class SGD: Optimizer {
    public var learningRate: Float
    public let momentum: Float
    public let weightDecay: Float
    public let nesterov: Bool
    public let dampening: Float
    public var state: [String: Tensor] = [:]

    public init(
        learningRate: Float, momentum: Float = 0, weightDecay: Float = 0, nesterov: Bool = false, dampening: Float = 0
    ) {
        precondition(!nesterov || (momentum > 0 && dampening == 0), "Nesterov needs momentum > 0 and no dampening")
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
        self.nesterov = nesterov
        self.dampening = dampening
    }

    public func update(parameters: [(name: String, parameter: Parameter)]) {
        for (name, parameter) in parameters {
            let key = "\(name).momentum"
            // Taken out of `state` while it is updated, so that the update writes in place instead of copying it.
            var buffer = state.removeValue(forKey: key)
            let (lr, shape) = (learningRate, parameter.value.shape)
            parameter.value.withUnsafeMutableBufferPointer { p in
                parameter.grad.withUnsafeBufferPointer { g in
                    if momentum == 0 {
                        for i in 0..<p.count { p[i] -= lr * (g[i] + weightDecay * p[i]) }
                        return
                    }
                    let isFirst = buffer == nil
                    if isFirst { buffer = Tensor(zeros: shape) }
                    buffer!.withUnsafeMutableBufferPointer { b in
                        let (count, p, g, b) = (p.count, p.baseAddress!, g.baseAddress!, b.baseAddress!)
                        let (decay, keep, kept) = (weightDecay, momentum, 1 - dampening)
                        // One loop per case (the choices hoisted out of it), so that each vectorises; the elements
                        // are independent, so large parameters are split over the threads.
                        Parallel.forEach(count, grain: 1 << 15) { range in
                            switch (isFirst, nesterov) {
                            case (true, false):
                                for i in range {
                                    let d = g[i] + decay * p[i]
                                    b[i] = d
                                    p[i] -= lr * d
                                }
                            case (true, true):
                                for i in range {
                                    let d = g[i] + decay * p[i]
                                    b[i] = d
                                    p[i] -= lr * (d + keep * d)
                                }
                            case (false, false):
                                for i in range {
                                    let m = keep * b[i] + kept * (g[i] + decay * p[i])
                                    b[i] = m
                                    p[i] -= lr * m
                                }
                            case (false, true):
                                for i in range {
                                    let d = g[i] + decay * p[i]
                                    let m = keep * b[i] + kept * d
                                    b[i] = m
                                    p[i] -= lr * (d + keep * m)
                                }
                            }
                        }
                    }
                }
            }
            if let buffer { state[key] = buffer }
        }
    }
}

/// Adam (PyTorch's `torch.optim.Adam`, L2 weight decay added to the gradient).
public final class Adam: Optimizer {
    public var learningRate: Float
    public let beta1: Float
    public let beta2: Float
    public let epsilon: Float
    public let weightDecay: Float
    public var state: [String: Tensor] = [:]

    public init(
        learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
        weightDecay: Float = 0
    ) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
    }

    /// Steps taken so far (kept in `state` as a scalar so it persists with the moments).
    public var steps: Int {
        get { Int(state["step"]?.scalars.first ?? 0) }
        set { state["step"] = Tensor(shape: [], scalars: [Float(newValue)]) }
    }

    public func update(parameters: [(name: String, parameter: Parameter)]) {
        steps += 1
        let correction1 = 1 - pow(Double(beta1), Double(steps))
        let correction2 = 1 - pow(Double(beta2), Double(steps))
        let stepSize = Float(Double(learningRate) / correction1)
        let root2 = Float(correction2.squareRoot())
        for (name, parameter) in parameters {
            // Taken out of `state` while they are updated, so that the update writes in place instead of copying.
            var m = state.removeValue(forKey: "\(name).exp_avg") ?? Tensor(zeros: parameter.value.shape)
            var v = state.removeValue(forKey: "\(name).exp_avg_sq") ?? Tensor(zeros: parameter.value.shape)
            parameter.value.withUnsafeMutableBufferPointer { p in
                parameter.grad.withUnsafeBufferPointer { g in
                    m.withUnsafeMutableBufferPointer { m in
                        v.withUnsafeMutableBufferPointer { v in
                            let (count, p, g, m, v) = (
                                p.count, p.baseAddress!, g.baseAddress!, m.baseAddress!, v.baseAddress!
                            )
                            let (decay, beta1, beta2, epsilon) = (weightDecay, beta1, beta2, epsilon)
                            // Independent elements: large parameters are split over the threads.
                            Parallel.forEach(count, grain: 1 << 15) { range in
                                for i in range {
                                    let d = g[i] + decay * p[i]
                                    m[i] = beta1 * m[i] + (1 - beta1) * d
                                    v[i] = beta2 * v[i] + (1 - beta2) * d * d
                                    p[i] -= stepSize * m[i] / (v[i].squareRoot() / root2 + epsilon)
                                }
                            }
                        }
                    }
                }
            }
            state["\(name).exp_avg"] = m
            state["\(name).exp_avg_sq"] = v
        }
    }
}

/// Learning rate as a function of the epoch: constant, step decay every `every` epochs, or decay at
/// given milestones (PyTorch's StepLR and MultiStepLR).
public enum LearningRateSchedule: Sendable, Equatable {
    case constant
    case step(every: Int, factor: Float)
    case milestones([Int], factor: Float)

    /// The rate for 0-based `epoch`, starting from `base`.
    public func rate(base: Float, epoch: Int) -> Float {
        switch self {
        case .constant: return base
        case .step(let every, let factor): return base * pow(factor, Float(epoch / max(every, 1)))
        case .milestones(let milestones, let factor):
            return base * pow(factor, Float(milestones.filter { $0 <= epoch }.count))
        }
    }
}

extension Model {
    /// Scales all gradients so their global L2 norm is at most `maxNorm`; returns the norm before clipping.
    @discardableResult
    public func clipGradientNorm(_ maxNorm: Float) -> Float { NN.clipGradientNorm(of: namedParameters, to: maxNorm) }
}

/// Scales the gradients of `parameters` so their global L2 norm is at most `maxNorm` (PyTorch's
/// `clip_grad_norm_`); returns the norm before clipping.
@discardableResult
public func clipGradientNorm(of parameters: [(name: String, parameter: Parameter)], to maxNorm: Float) -> Float {
    let norm = Float(parameters.reduce(0.0) { $0 + $1.parameter.grad.squaredNorm() }.squareRoot())
    if norm > maxNorm && norm.isFinite {
        let factor = maxNorm / (norm + 1e-6)
        for (_, parameter) in parameters { parameter.grad.scale(by: factor) }
    }
    return norm
}
