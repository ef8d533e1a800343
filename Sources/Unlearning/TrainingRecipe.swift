import NN

/// How to train a model from its initialisation: the original model's recipe and the retrain baseline's.
public struct TrainingRecipe: Sendable, Codable, Equatable {
    public var epochs = 5
    public var batchSize = 128
    public var learningRate: Float = 0.01
    public var momentum: Float = 0.9
    public var weightDecay: Float = 5e-4
    public var nesterov = false
    public var labelSmoothing: Float = 0
    /// Multiply the learning rate by `decayFactor` at these 0-based epochs.
    public var decayEpochs: [Int] = []
    public var decayFactor: Float = 0.1
    public var seed: UInt64 = 1
    /// Logical shards per minibatch (DESIGN §4); the result depends on it, not on who computes them.
    public var shards = 1

    public init() {}

    public var schedule: LearningRateSchedule {
        decayEpochs.isEmpty ? .constant : .milestones(decayEpochs, factor: decayFactor)
    }

    /// Why this recipe cannot run, or nil.
    public var problem: String? {
        if !(0...UnlearningLimits.epochs).contains(epochs) { return "epochs must be in 0…\(UnlearningLimits.epochs)" }
        if !(1...UnlearningLimits.batchSize).contains(batchSize) {
            return "batch size must be in 1…\(UnlearningLimits.batchSize)"
        }
        if !(learningRate > 0) { return "learning rate must be > 0" }
        if momentum < 0 || momentum >= 1 { return "momentum must be in [0, 1)" }
        if weightDecay < 0 { return "weight decay must be ≥ 0" }
        if nesterov && momentum == 0 { return "Nesterov momentum needs momentum > 0" }
        if labelSmoothing < 0 || labelSmoothing >= 1 { return "label smoothing must be in [0, 1)" }
        if shards < 1 || shards > batchSize { return "shards must be between 1 and the batch size" }
        return nil
    }
}
