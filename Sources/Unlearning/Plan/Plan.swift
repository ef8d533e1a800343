import NN

/// The work one step of a phase hands to an executor.
public enum Work {
    /// Sum a gradient over logical shards (the phase then updates something with it).
    case gradient(GradientStep)
    /// Forward passes only.
    case predict(PredictionRequest)
    /// Nothing to distribute: the phase computes on the plan state alone (on the coordinator).
    case local
}

/// What an executor returns for a step's work.
public enum WorkResult {
    case gradient(StepOutcome)
    case predictions(Evaluator.Predictions)
    case local

    public var outcome: StepOutcome? {
        if case .gradient(let outcome) = self { outcome } else { nil }
    }

    public var predictions: Evaluator.Predictions? {
        if case .predictions(let predictions) = self { predictions } else { nil }
    }
}

/// Whether a phase goes on after a step.
public enum PhaseControl {
    case proceed
    /// End the phase now (e.g. SCRUB's max-epoch once the forget batches are forgotten).
    case stopPhase
}

/// A named sequence of steps. Its work for step `i` depends only on the method's settings, `i` and the plan
/// state, so a resumed run can continue at any step.
public protocol PlanPhase {
    var name: String { get }
    var stepCount: Int { get }
    /// Called before step 0 (e.g. to set the learning rate).
    func begin(_ state: PlanState) throws
    func work(at step: Int, _ state: PlanState) throws -> Work
    /// Uses the executor's result: applies the update, records what later phases need.
    func finish(step: Int, result: WorkResult, _ state: PlanState) throws -> PhaseControl
}

extension PlanPhase {
    public func begin(_ state: PlanState) throws {}
}

/// An unlearning method's plan: its phases in order and the optimizers they share.
public struct Plan {
    public var phases: [any PlanPhase]
    public var makeOptimizers: () -> [String: Optimizer]
    /// The training samples whose predictions by the original a phase asks for (`OriginalLogits`), ascending: a
    /// run that predicts the original for its verification predicts these with them and hands them over
    /// (`PlanState.originalPredictions`), so that the phase costs nothing.
    public var originalRows: [Int]

    public init(
        phases: [any PlanPhase], originalRows: [Int] = [], optimizers: @escaping () -> [String: Optimizer] = { [:] }
    ) {
        self.phases = phases
        self.originalRows = originalRows
        self.makeOptimizers = optimizers
    }

    public var totalSteps: Int { phases.reduce(0) { $0 + $1.stepCount } }
}

/// Computes the distributable work of plan steps: in process (`LocalExecutor`) or on workers.
public protocol StepExecutor: AnyObject {
    /// The step's gradient summed over logical shards in shard order; `.parameters` steps leave it in the
    /// student's `grad`.
    func gradient(_ step: GradientStep, state: PlanState) throws -> StepOutcome
    func predict(_ request: PredictionRequest, state: PlanState) throws -> Evaluator.Predictions
    /// Every training index a step or prediction has read so far (what the method touched).
    var touchedSamples: Set<Int> { get }
}
