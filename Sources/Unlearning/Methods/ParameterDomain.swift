/// The values a method parameter may take. Every numeric parameter declares one, so that a value that cannot
/// make sense (a negative learning rate, a fraction above 1, a batch of a million rows) is refused before any
/// work starts instead of producing a broken model.
public indirect enum ParameterDomain: Sendable, Equatable, CustomStringConvertible {
    /// Text or a boolean: the method checks it itself.
    case unconstrained
    /// A finite number > 0 (learning rates, temperatures, strengths).
    case positive
    /// A finite number ≥ 0 (weights of loss terms, weight decay; 0 switches a feature off).
    case nonNegative
    /// A number in (0, 1] (a fraction of a set).
    case fraction
    /// A number in [0, 1] (accuracies, weights that sum to one).
    case unitInterval
    /// A number in [0, 1) (momentum).
    case belowOne
    /// An integer in the range (epochs, steps, copies, samples).
    case count(ClosedRange<Int>)
    /// Rows of a minibatch, 1…`UnlearningLimits.batchSize`; also bounds the logical shards (`shardLimit`).
    case batchSize
    /// -1 (chosen automatically) or a value of the domain.
    case automaticOr(ParameterDomain)

    public func admits(_ text: String) -> Bool {
        switch self {
        case .unconstrained: return true
        case .count(let range): return Int(text).map(range.contains) ?? false
        case .batchSize: return Int(text).map { (1...UnlearningLimits.batchSize).contains($0) } ?? false
        case .automaticOr(let domain): return Float(text) == -1 || domain.admits(text)
        case .positive, .nonNegative, .fraction, .unitInterval, .belowOne:
            guard let value = Float(text), value.isFinite else { return false }
            switch self {
            case .positive: return value > 0
            case .nonNegative: return value >= 0
            case .fraction: return value > 0 && value <= 1
            case .unitInterval: return value >= 0 && value <= 1
            default: return value >= 0 && value < 1
            }
        }
    }

    public var description: String {
        switch self {
        case .unconstrained: "any value"
        case .positive: "a number > 0"
        case .nonNegative: "a number ≥ 0"
        case .fraction: "a number in (0, 1]"
        case .unitInterval: "a number in [0, 1]"
        case .belowOne: "a number in [0, 1)"
        case .count(let range): "an integer in \(range.lowerBound)…\(range.upperBound)"
        case .batchSize: "an integer in 1…\(UnlearningLimits.batchSize)"
        case .automaticOr(let domain): "-1 (automatic) or \(domain)"
        }
    }

    /// Whether the domain bounds a minibatch (and so the logical shards that split it).
    var isBatchSize: Bool {
        switch self {
        case .batchSize: true
        case .automaticOr(let domain): domain.isBatchSize
        default: false
        }
    }
}

/// Bounds on the sizes a user controls, checked before any work so that no request can exhaust a machine.
public enum UnlearningLimits {
    /// Rows of one minibatch.
    public static let batchSize = 4096
    /// Logical shards of one step (the protocol's limit too).
    public static let shards = 4096
    /// Epochs of one phase or one training run.
    public static let epochs = 1000
    /// Samples a method draws for a check or a subset (per class where it says so).
    public static let samples = 1_000_000
    /// Steps of one learned-input phase, copies of one batch.
    public static let steps = 100_000
}
