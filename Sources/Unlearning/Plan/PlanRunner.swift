import Foundation
import NN

/// What a finished phase did: its loss per step (for loss curves), time, and whether it stopped early.
public struct PhaseLog: Sendable, Codable, Equatable {
    public var name: String
    public var losses: [Double]
    /// Rows seen by the gradient steps, and how many of them the student predicted correctly (before the update).
    public var rows: Int
    public var correct: Int
    /// Row-weighted mean of the step losses.
    public var meanLoss: Double
    public var steps: Int
    public var plannedSteps: Int
    public var seconds: Double
}

extension PhaseLog {
    /// The log with at most `points` loss values for a report's curve: each the mean of consecutive steps (the
    /// number of steps per point is `steps / losses.count`, rounded up); shorter curves are unchanged.
    public func curve(points: Int = 1_000) -> PhaseLog {
        guard losses.count > points, points > 0 else { return self }
        let width = (losses.count + points - 1) / points
        var log = self
        log.losses = stride(from: 0, to: losses.count, by: width).map { start in
            let bucket = losses[start..<min(start + width, losses.count)]
            return bucket.reduce(0, +) / Double(bucket.count)
        }
        return log
    }
}

/// Runs a plan's phases in order, handing each step's work to an executor.
public final class PlanRunner {
    public let executor: StepExecutor
    public var progress: ProgressHandler?
    /// |loss| beyond this counts as divergence.
    public var lossLimit = 1e4

    public init(executor: StepExecutor, progress: ProgressHandler? = nil) {
        self.executor = executor
        self.progress = progress
    }

    /// Runs `plan` on `state` and returns a log per phase; throws `DivergenceError` rather than leaving a broken
    /// student behind. With `resume` (and `state` restored from the same snapshot) it continues where that run
    /// stopped. `barrier` is called after every step with the progress so far, when the state is consistent
    /// (e.g. to persist a `PlanSnapshot`); `phaseEnded` marks the last step of a phase.
    @discardableResult
    public func run(
        _ plan: Plan, state: PlanState, resume: RunProgress? = nil,
        barrier: ((_ progress: RunProgress, _ phaseEnded: Bool) throws -> Void)? = nil
    ) throws -> [PhaseLog] {
        var logs = resume?.logs ?? []
        for (phaseIndex, phase) in plan.phases.enumerated() where phaseIndex >= (resume?.phase ?? 0) {
            let start = Date()
            let partial = phaseIndex == resume?.phase ? resume?.current : nil
            var losses = partial?.losses ?? []
            var (rows, correct) = (partial?.rows ?? 0, partial?.correct ?? 0)
            var lossSum = (partial?.meanLoss ?? 0) * Double(rows)
            let earlier = partial?.seconds ?? 0
            try phase.begin(state)
            var step = phaseIndex == resume?.phase ? resume?.step ?? 0 : 0
            func log() -> PhaseLog {
                PhaseLog(
                    name: phase.name, losses: losses, rows: rows, correct: correct,
                    meanLoss: rows == 0 ? 0 : lossSum / Double(rows), steps: step, plannedSteps: phase.stepCount,
                    seconds: earlier + Date().timeIntervalSince(start))
            }
            var stopped = false
            while step < phase.stepCount && !stopped {
                let result: WorkResult
                switch try phase.work(at: step, state) {
                case .gradient(let gradientStep):
                    let outcome = try executor.gradient(gradientStep, state: state)
                    guard outcome.loss.isFinite, abs(outcome.loss) < lossLimit else {
                        throw DivergenceError(phase: phase.name, step: step, loss: outcome.loss)
                    }
                    losses.append(outcome.loss)
                    let stepRows = outcome.rows.reduce(0, +)
                    rows += stepRows
                    correct += outcome.correct.reduce(0, +)
                    lossSum += outcome.loss * Double(stepRows)
                    result = .gradient(outcome)
                case .predict(let request):
                    result = .predictions(try state.known(request) ?? executor.predict(request, state: state))
                case .local:
                    result = .local
                }
                stopped = try phase.finish(step: step, result: result, state) == .stopPhase
                step += 1
                progress?(
                    PhaseProgress(
                        phase: phase.name, completed: step, total: phase.stepCount, loss: losses.last,
                        stoppedEarly: stopped && step < phase.stepCount))
                if stopped || step == phase.stepCount {
                    logs.append(log())
                    try barrier?(RunProgress(phase: phaseIndex + 1, step: 0, logs: logs), true)
                } else {
                    try barrier?(RunProgress(phase: phaseIndex, step: step, logs: logs, current: log()), false)
                }
            }
            if phase.stepCount == 0 { logs.append(log()) }
        }
        if let broken = state.student.namedParameters.first(where: { !$0.parameter.value.isFinite }) {
            throw DivergenceError(phase: "result", step: 0, loss: .nan, detail: "\(broken.name) is not finite")
        }
        return logs
    }
}
