import NN
import Testing
import Unlearning

/// A phase that stops early says where it stopped: its last progress report is "14/85, stopped early", not 85/85.
struct EarlyStopProgressTests {
    /// 85 steps of work on the plan state alone; it decides it is done after step 14.
    struct StoppingPhase: PlanPhase {
        let name = "max epoch 1"
        var stepCount: Int { 85 }
        func work(at step: Int, _ state: PlanState) throws -> Work { .local }
        func finish(step: Int, result: WorkResult, _ state: PlanState) throws -> PhaseControl {
            step == 13 ? .stopPhase : .proceed
        }
    }

    final class NoExecutor: StepExecutor {
        func gradient(_ step: GradientStep, state: PlanState) throws -> StepOutcome { fatalError("no gradients") }
        func predict(_ request: PredictionRequest, state: PlanState) throws -> Evaluator.Predictions {
            fatalError("no predictions")
        }
        var touchedSamples: Set<Int> { [] }
    }

    @Test func theLastReportOfAnEarlyStopSaysWhereItStopped() async throws {
        let (stream, reports) = AsyncStream.makeStream(of: PhaseProgress.self)
        let runner = PlanRunner(executor: NoExecutor()) { reports.yield($0) }
        let logs = try runner.run(
            Plan(phases: [StoppingPhase()]), state: PlanState(student: ModelZoo.fmnistMLP(seed: 1)))
        reports.finish()
        let all = await stream.reduce(into: [PhaseProgress]()) { $0.append($1) }
        let last = try #require(all.last)
        #expect(last.completed == 14 && last.total == 85 && last.stoppedEarly && last.isFinal)
        #expect(last.count == "14/85, stopped early")
        #expect(all.count == 14 && all.dropLast().allSatisfy { !$0.isFinal })
        #expect(logs.first?.steps == 14 && logs.first?.plannedSteps == 85)
        #expect(PhaseProgress(phase: "x", completed: 85, total: 85).count == "85/85")
    }
}
