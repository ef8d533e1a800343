import Foundation
import Jobs
import NN
import Tensor
import Testing
import Unlearning

/// A reusable phase's outcome is kept after its last step and restored, with no steps, by a later run with the
/// same model, data, shards and identity; anything else computes it again.
struct PhaseReuseTests {
    /// A phase that leaves `out/value` = its step count, and counts the steps it ran.
    struct CountingPhase: ReusablePhase {
        let name = "counting"
        let stepCount = 3
        let identity: String
        var outputPrefix: String { "out" }
        let ran: Counter
        func work(at step: Int, _ state: PlanState) throws -> Work { .local }
        func finish(step: Int, result: WorkResult, _ state: PlanState) throws -> PhaseControl {
            ran.count += 1
            state.tensors["out/value"] = Tensor(shape: [1], scalars: [Float(step + 1)])
            state.tensors["scratch"] = Tensor(shape: [1], scalars: [7])
            return .proceed
        }
    }

    final class Counter { var count = 0 }

    final class MemoryStore: PhaseStore, @unchecked Sendable {
        var entries: [String: [String: Tensor]] = [:]
        func load(key: String) -> [String: Tensor]? { entries[key] }
        func save(_ tensors: [String: Tensor], key: String) { entries[key] = tensors }
    }

    final class NoExecutor: StepExecutor {
        func gradient(_ step: GradientStep, state: PlanState) throws -> StepOutcome { fatalError("no gradients") }
        func predict(_ request: PredictionRequest, state: PlanState) throws -> Evaluator.Predictions {
            fatalError("no predictions")
        }
        var touchedSamples: Set<Int> { [] }
    }

    @Test func anOutcomeIsKeptThenRestoredOnlyForTheSameInputs() throws {
        let store = MemoryStore()
        let ran = Counter()
        func reuse(shards: Int = 2, model: String = "aa") -> PhaseReuse {
            PhaseReuse(store: store, modelSha256: model, architecture: "fmnist-mlp", trainSha256: "bb", shards: shards)
        }
        func run(_ reuse: PhaseReuse, identity: String = "v1") throws -> (
            PlanState, reused: [PhaseReuse.Reused], steps: Int
        ) {
            let (plan, reused) = reuse.apply(to: Plan(phases: [CountingPhase(identity: identity, ran: ran)]))
            let state = PlanState(student: ModelZoo.fmnistMLP(seed: 1))
            try PlanRunner(executor: NoExecutor()).run(plan, state: state)
            return (state, reused, plan.totalSteps)
        }
        let first = try run(reuse())
        #expect(first.reused.isEmpty && first.steps == 3 && ran.count == 3)
        #expect(store.entries.count == 1 && store.entries.values.first?.keys.sorted() == ["out/value"])

        let second = try run(reuse())
        #expect(second.steps == 0 && ran.count == 3 && second.reused.first?.phase == "counting")
        #expect(second.0.tensors["out/value"]?.scalars == [3] && second.0.tensors["scratch"] == nil)

        for other in [try run(reuse(shards: 3)), try run(reuse(model: "cc")), try run(reuse(), identity: "v2")] {
            #expect(other.reused.isEmpty && other.steps == 3)
        }
        #expect(store.entries.count == 4)
    }
}
