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
    /// student behind.
    @discardableResult
    public func run(_ plan: Plan, state: PlanState) throws -> [PhaseLog] {
        var logs: [PhaseLog] = []
        for phase in plan.phases {
            let start = Date()
            var losses: [Double] = []
            var (rows, correct, lossSum) = (0, 0, 0.0)
            try phase.begin(state)
            var step = 0
            while step < phase.stepCount {
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
                    result = .predictions(try executor.predict(request, state: state))
                case .local:
                    result = .local
                }
                let control = try phase.finish(step: step, result: result, state)
                step += 1
                progress?(
                    PhaseProgress(
                        phase: phase.name, completed: control == .stopPhase ? phase.stepCount : step,
                        total: phase.stepCount, loss: losses.last))
                if control == .stopPhase { break }
            }
            logs.append(
                PhaseLog(
                    name: phase.name, losses: losses, rows: rows, correct: correct,
                    meanLoss: rows == 0 ? 0 : lossSum / Double(rows), steps: step, plannedSteps: phase.stepCount,
                    seconds: Date().timeIntervalSince(start)))
        }
        if let broken = state.student.namedParameters.first(where: { !$0.parameter.value.isFinite }) {
            throw DivergenceError(phase: "result", step: 0, loss: .nan, detail: "\(broken.name) is not finite")
        }
        return logs
    }
}
