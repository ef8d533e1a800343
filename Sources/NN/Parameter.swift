import Tensor

/// A named slot of model state: a trainable parameter (with its gradient) or a buffer such as BatchNorm's
/// running statistics.
public final class Parameter: @unchecked Sendable {
    public var value: Tensor
    public var grad: Tensor
    public let isTrainable: Bool

    public init(_ value: Tensor, trainable: Bool = true) {
        self.value = value
        self.isTrainable = trainable
        self.grad = trainable ? Tensor(zeros: value.shape) : Tensor(zeros: [0])
    }

    public func zeroGrad() {
        if isTrainable { grad.fill(0) }
    }
}

/// Mode of a forward pass: training (batch statistics, dropout) or evaluation, plus the seed from which
/// any randomness in the pass (dropout masks) is derived.
public struct ForwardMode: Sendable {
    public var isTraining: Bool
    public var seed: UInt64
    /// Whether layers keep what a backward pass needs (false for pure inference, which saves memory).
    public var keepsActivations: Bool

    public init(isTraining: Bool, seed: UInt64 = 0, keepsActivations: Bool = true) {
        self.isTraining = isTraining
        self.seed = seed
        self.keepsActivations = keepsActivations
    }

    /// Evaluation-mode layers (running statistics, no dropout), ready for a backward pass.
    public static let eval = ForwardMode(isTraining: false)
    /// Evaluation without any backward pass to follow.
    public static let inference = ForwardMode(isTraining: false, keepsActivations: false)
    public static func train(seed: UInt64 = 0) -> ForwardMode { ForwardMode(isTraining: true, seed: seed) }
}

/// Intermediate outputs to record during a forward pass and gradients to inject during the backward pass,
/// by layer path (`conv2`, `layer3.1`, …).
public final class FeatureTap {
    public let paths: Set<String>
    public internal(set) var features: [String: Tensor] = [:]
    public var gradients: [String: Tensor] = [:]

    public init(paths: Set<String>) { self.paths = paths }
}
