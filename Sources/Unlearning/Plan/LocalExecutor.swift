import Data
import NN
import Tensor

/// Runs plan steps in this process: every logical shard one after the other, summed in shard order, exactly
/// the arithmetic a distributed run does.
public final class LocalExecutor: StepExecutor {
    public let dataset: Dataset
    public let shards: Int
    private let frozenModels: FrozenModels
    /// Every training index a step or prediction has read so far (what the method touched).
    public private(set) var touchedSamples = Set<Int>()

    /// `original` is the model before unlearning (kept as given, never trained); `architecture` builds fresh
    /// initialisations for `.randomInitialization`.
    public init(dataset: Dataset, shards: Int, original: Model, architecture: @escaping (UInt64) -> Model) {
        precondition(shards >= 1, "shards must be at least 1")
        self.dataset = dataset
        self.shards = shards
        frozenModels = FrozenModels(original: original, architecture: architecture)
    }

    public func gradient(_ step: GradientStep, state: PlanState) throws -> StepOutcome {
        for part in step.parts { if case .samples(let indices) = part.inputs { touchedSamples.formUnion(indices) } }
        let inputs = ShardInputs(
            student: state.student, dataset: dataset, tensors: state.tensors, frozen: frozenModels.model)
        let results = (0..<shards).map { ShardedStep.compute(step, shard: $0, of: shards, inputs: inputs) }
        return ShardedStep.combine(results, of: step, into: state.student)
    }

    public func predict(_ request: PredictionRequest, state: PlanState) throws -> Evaluator.Predictions {
        if request.countsAsRead { touchedSamples.formUnion(request.indices) }
        let model =
            switch request.subject {
            case .student: state.student
            case .frozen(let frozen): frozenModels.model(frozen)
            }
        return Evaluator.predict(model, on: dataset, indices: request.indices)
    }
}

/// The frozen models of a run, built once each.
public final class FrozenModels {
    private let architecture: (UInt64) -> Model
    private var models: [FrozenModel: Model]

    public init(original: Model, architecture: @escaping (UInt64) -> Model) {
        self.architecture = architecture
        models = [.original: original]
    }

    public func model(_ which: FrozenModel) -> Model {
        if let model = models[which] { return model }
        guard case .randomInitialization(let seed) = which else { preconditionFailure("no original model") }
        let model = architecture(seed)
        models[which] = model
        return model
    }
}
