import NN
import Tensor

/// Steps that each sum a gradient and let an optimizer update the student: an epoch of training, of
/// gradient ascent, of distillation.
public struct GradientPhase: PlanPhase {
    public let name: String
    public let stepCount: Int
    public let optimizer: String
    /// Set on the optimizer when the phase begins (nil keeps its current rate).
    public var learningRate: Float?
    /// Clip the summed gradient to this global L2 norm.
    public var clipNorm: Float?
    public let makeStep: (_ step: Int, _ state: PlanState) -> GradientStep
    /// Ends the phase early when this holds after a step.
    public var stopWhen: ((_ outcome: StepOutcome, _ state: PlanState) -> Bool)?

    public init(
        name: String, steps: Int, optimizer: String, learningRate: Float? = nil, clipNorm: Float? = nil,
        makeStep: @escaping (_ step: Int, _ state: PlanState) -> GradientStep,
        stopWhen: ((_ outcome: StepOutcome, _ state: PlanState) -> Bool)? = nil
    ) {
        self.name = name
        self.stepCount = steps
        self.optimizer = optimizer
        self.learningRate = learningRate
        self.clipNorm = clipNorm
        self.makeStep = makeStep
        self.stopWhen = stopWhen
    }

    public func begin(_ state: PlanState) throws {
        if let learningRate { state.optimizer(optimizer).learningRate = learningRate }
    }

    public func work(at step: Int, _ state: PlanState) throws -> Work { .gradient(makeStep(step, state)) }

    public func finish(step: Int, result: WorkResult, _ state: PlanState) throws -> PhaseControl {
        let outcome = result.outcome!
        if let clipNorm { state.student.clipGradientNorm(clipNorm) }
        state.optimizer(optimizer).update(model: state.student)
        return stopWhen?(outcome, state) == true ? .stopPhase : .proceed
    }
}

/// One forward-only pass whose predictions the phase keeps in the plan state (none when `request` gives nil).
public struct PredictionPhase: PlanPhase {
    public let name: String
    public let request: (PlanState) -> PredictionRequest?
    public let keep: (Evaluator.Predictions, PlanState) throws -> Void

    public init(
        name: String, request: @escaping (PlanState) -> PredictionRequest?,
        keep: @escaping (Evaluator.Predictions, PlanState) throws -> Void
    ) {
        self.name = name
        self.request = request
        self.keep = keep
    }

    public var stepCount: Int { 1 }
    public func work(at step: Int, _ state: PlanState) throws -> Work { request(state).map { .predict($0) } ?? .local }
    public func finish(step: Int, result: WorkResult, _ state: PlanState) throws -> PhaseControl {
        if let predictions = result.predictions { try keep(predictions, state) }
        return .proceed
    }
}

/// Work on the plan state alone (initialising noise, dampening weights, picking a checkpoint).
public struct LocalPhase: PlanPhase {
    public let name: String
    public let body: (PlanState) throws -> Void

    public init(name: String, body: @escaping (PlanState) throws -> Void) {
        self.name = name
        self.body = body
    }

    public var stepCount: Int { 1 }
    public func work(at step: Int, _ state: PlanState) throws -> Work { .local }
    public func finish(step: Int, result: WorkResult, _ state: PlanState) throws -> PhaseControl {
        try body(state)
        return .proceed
    }
}

/// Learns input tensors (UNSIR's noise) with the model frozen: each step differentiates the loss with respect
/// to the rows of state tensor `tensor`, adds λ·∂(mean_rows ‖row‖²)/∂N, and lets optimizer `optimizer` update it.
public struct InputLearningPhase: PlanPhase {
    public let name: String
    public let stepCount: Int
    public let tensor: String
    public let optimizer: String
    public let regularization: Float
    public let makeStep: (_ step: Int) -> GradientStep

    public init(
        name: String, steps: Int, tensor: String, optimizer: String, regularization: Float,
        makeStep: @escaping (_ step: Int) -> GradientStep
    ) {
        self.name = name
        self.stepCount = steps
        self.tensor = tensor
        self.optimizer = optimizer
        self.regularization = regularization
        self.makeStep = makeStep
    }

    public func work(at step: Int, _ state: PlanState) throws -> Work { .gradient(makeStep(step)) }

    public func finish(step: Int, result: WorkResult, _ state: PlanState) throws -> PhaseControl {
        let value = state.tensors[tensor]!
        let parameter = Parameter(value)
        parameter.grad = result.outcome!.inputGradients[0]!
        parameter.grad.add(value, scaledBy: 2 * regularization / Float(value.shape[0]))
        state.optimizer(optimizer).update(parameters: [(name: tensor, parameter: parameter)])
        state.tensors[tensor] = parameter.value
        return .proceed
    }
}
