import NN

/// Gradient steps that run while a plan has work for them: once `settledKey` is set in the plan state (e.g. no
/// forget sample is active any more) the phase ends at its next step without computing anything.
struct GatedGradientPhase: PlanPhase {
    static let optimizer = "sgd"
    let name: String
    let stepCount: Int
    let clipNorm: Float?
    let settledKey = CalibratedRelabel.settledKey
    let makeStep: (_ step: Int, _ state: PlanState) -> GradientStep

    init(
        name: String, steps: Int, clipNorm: Float?,
        makeStep: @escaping (_ step: Int, _ state: PlanState) -> GradientStep
    ) {
        self.name = name
        self.stepCount = steps
        self.clipNorm = clipNorm
        self.makeStep = makeStep
    }

    func work(at step: Int, _ state: PlanState) throws -> Work {
        state.scalars[settledKey] != nil ? .local : .gradient(makeStep(step, state))
    }

    func finish(step: Int, result: WorkResult, _ state: PlanState) throws -> PhaseControl {
        guard result.outcome != nil else { return .stopPhase }
        if let clipNorm { state.student.clipGradientNorm(clipNorm) }
        state.optimizer(Self.optimizer).update(model: state.student)
        return .proceed
    }
}
