import Tensor

/// A model whose weights never change during a run: the teacher of distillation methods and the random
/// model of ZRF and bad-teacher. Executors build or load it once; workers fetch `.original` by hash.
public enum FrozenModel: Hashable, Sendable, Codable {
    /// The model being unlearned, as it was before the run.
    case original
    /// The architecture at a fresh seeded initialisation.
    case randomInitialization(seed: UInt64)
}

/// Where a batch part's inputs come from.
public enum InputSource: Equatable, Sendable, Codable {
    /// Training samples by index into the run's training set.
    case samples([Int])
    /// Rows of a tensor kept in the plan state (UNSIR's learned noise), by name.
    case tensorRows(name: String, rows: [Int])

    public var count: Int {
        switch self {
        case .samples(let indices): indices.count
        case .tensorRows(_, let rows): rows.count
        }
    }
}

/// Where a regression term's targets come from: one row [K] per row of its part.
public enum RegressionTarget: Equatable, Sendable, Codable {
    /// The training samples' own targets (`Dataset.targets`); for parts of training samples.
    case dataset
    /// Rows of a plan-state tensor [*, K] (e.g. another model's outputs on the part's samples), by name.
    case tensorRows(name: String, rows: [Int])
}

/// One term of a loss on a part's student logits; `weight` scales it (negative to ascend).
public enum LossComponent: Equatable, Sendable, Codable {
    /// Cross-entropy against the part's labels.
    case crossEntropy(weight: Float)
    /// KL(softmax(teacher/T) ‖ softmax(student/T)) · T², summed over classes.
    case distillation(teacher: FrozenModel, temperature: Float, weight: Float)
    /// Σ over layers of ‖F_t/‖F_t‖ − F_s/‖F_s‖‖² per sample, between the teacher's and the student's
    /// features at those layer paths.
    case featureMatching(teacher: FrozenModel, layers: [String], weight: Float)
    /// Σ over layers of the attention-transfer loss per sample (`attentionTransfer`: the mean over positions of
    /// the squared difference of L2-normalised channel means of squared features) between the teacher's and the
    /// student's [N, C, H, W] features at those layer paths.
    case attentionTransfer(teacher: FrozenModel, layers: [String], weight: Float)
    /// Regression: per row, the mean over the K outputs of |output − target| (PyTorch's `l1_loss` per row).
    case absoluteError(target: RegressionTarget, weight: Float)
    /// Regression: per row, the mean over the K outputs of (output − target)².
    case squaredError(target: RegressionTarget, weight: Float)
    /// Σ over layers of the attention-transfer loss per row against stored attention maps: rows `rows` of the
    /// plan-state tensors `maps + layer`, each [*, H·W] (`attentionMaps` of another model's features).
    case attentionToMaps(maps: String, rows: [Int], layers: [String], weight: Float)
    /// `distillation` against stored teacher logits: rows `rows` of the plan-state tensor `logits` [*, classes]
    /// (the original's on the training samples the plan reads, `OriginalLogits`), instead of running the teacher.
    case storedDistillation(logits: String, rows: [Int], temperature: Float, weight: Float)

    public var weight: Float {
        switch self {
        case .crossEntropy(let weight), .distillation(_, _, let weight), .featureMatching(_, _, let weight),
            .attentionTransfer(_, _, let weight), .absoluteError(_, let weight), .squaredError(_, let weight),
            .attentionToMaps(_, _, _, let weight), .storedDistillation(_, _, _, let weight):
            weight
        }
    }

    /// The layer paths this component reads features at.
    public var featureLayers: [String] {
        switch self {
        case .featureMatching(_, let layers, _), .attentionTransfer(_, let layers, _),
            .attentionToMaps(_, _, let layers, _):
            layers
        case .crossEntropy, .distillation, .storedDistillation, .absoluteError, .squaredError: []
        }
    }
}

/// Inputs with their labels and the loss terms computed on them.
public struct BatchPart: Equatable, Sendable, Codable {
    public var inputs: InputSource
    /// One label per input row (the true label, or a new one for relabelling methods).
    public var labels: [Int]
    public var losses: [LossComponent]

    public init(inputs: InputSource, labels: [Int], losses: [LossComponent]) {
        precondition(inputs.count == labels.count, "a batch part needs one label per input")
        self.inputs = inputs
        self.labels = labels
        self.losses = losses
    }
}

/// What a step differentiates.
public enum GradientTarget: Equatable, Sendable, Codable {
    /// The student's trainable parameters (left in their `grad`).
    case parameters
    /// The inputs of the parts that read state tensors (UNSIR learns its noise, GKT its generator this way). The
    /// gradient is the whole derivative: a distillation term's teacher sees the same inputs, so it flows through
    /// the teacher too.
    case inputs
}

/// One step of a plan (DESIGN §4): the gradient of Σ_parts Σ_rows Σ_terms weight · loss, divided by
/// `normalizer`. Every part is cut into the same number of logical shards; shard `s` holds rows
/// `ShardedStep.rows(ofShard: s, …)` of every part, is computed in one forward and backward pass from zero,
/// and the shard results are summed in shard order. Whoever computes the shards, the sum has the same bits.
public struct GradientStep: Equatable, Sendable, Codable {
    public var parts: [BatchPart]
    /// The divisor turning sums into means: usually the number of rows in the step.
    public var normalizer: Float
    public var target: GradientTarget
    /// Student forward mode: training (dropout, batch statistics) or evaluation (e.g. UNSIR's frozen model).
    public var isTraining: Bool
    /// Seed of the step's random forward choices (dropout masks); shard `s` uses `seed + s`.
    public var seed: UInt64

    public init(
        parts: [BatchPart], normalizer: Float? = nil, target: GradientTarget = .parameters, isTraining: Bool = true,
        seed: UInt64
    ) {
        self.parts = parts
        self.normalizer = normalizer ?? Float(parts.reduce(0) { $0 + $1.labels.count })
        self.target = target
        self.isTraining = isTraining
        self.seed = seed
    }
}

/// What a gradient step measured, summed over its shards in shard order.
public struct StepOutcome: Sendable, Equatable {
    /// Σ weight · loss over all rows, divided by the step's normalizer.
    public var loss: Double
    /// Per part: rows whose prediction matched the part's label (before the update).
    public var correct: [Int]
    /// Per part: the number of rows.
    public var rows: [Int]
    /// For `.inputs` steps: ∂loss/∂input of every state-tensor row, per part (nil for sample parts).
    public var inputGradients: [Tensor?]

    public init(loss: Double, correct: [Int], rows: [Int], inputGradients: [Tensor?]) {
        self.loss = loss
        self.correct = correct
        self.rows = rows
        self.inputGradients = inputGradients
    }

    /// Fraction of part `index` predicted correctly.
    public func accuracy(ofPart index: Int) -> Double {
        rows[index] == 0 ? 0 : Double(correct[index]) / Double(rows[index])
    }
}

/// A forward-only pass: predictions of the student or a frozen model on training samples, in their order.
public struct PredictionRequest: Equatable, Sendable, Codable {
    public enum Subject: Equatable, Sendable, Codable {
        case student
        case frozen(FrozenModel)
    }
    public var subject: Subject
    public var indices: [Int]
    /// Whether the samples count among those the method read (`dataTouched`): not for the original's logits
    /// (`OriginalLogits`), which stand in for the teacher on the rows the steps read (and count).
    public var countsAsRead: Bool

    public init(subject: Subject, indices: [Int], countsAsRead: Bool = true) {
        self.subject = subject
        self.indices = indices
        self.countsAsRead = countsAsRead
    }
}
