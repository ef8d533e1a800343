import Foundation
import LetheTesting
import NN
import Tensor
import Testing
import Unlearning

struct ResumeTests {
    let toy = ToyProblem()

    struct Crash: Error {}

    /// A run stopped at any barrier and resumed from its snapshot ends with the bits and losses of an
    /// uninterrupted run.
    @Test(arguments: [("scrub", 0.2), ("scrub", 0.7), ("unsir", 0.5), ("ssd", 0.5), ("gkt", 0.6)])
    func resumedRunsRepeatUninterruptedOnes(method name: String, crashAt fraction: Double) throws {
        let method = try #require(UnlearningMethods.named(name))
        let problem = try toy.problem(method, .classes([0]))
        let original = try toy.original()
        func fresh() throws -> (Plan, PlanState, PlanRunner) {
            let plan = try method.plan(for: problem)
            let executor = LocalExecutor(dataset: toy.train, shards: 2, original: original) {
                ModelZoo.fmnistMLP(seed: $0)
            }
            return (
                plan, PlanState(student: original.copy(), optimizers: plan.makeOptimizers()),
                PlanRunner(executor: executor)
            )
        }
        let (plan, state, runner) = try fresh()
        var total = 0
        let logs = try runner.run(plan, state: state) { _, _ in total += 1 }
        let crashAfter = max(1, Int(Double(total) * fraction))
        let expected = BitHash.of(state.student.stateDict().map(\.tensor))

        var saved: (header: Data, tensors: [String: Tensor])?
        var barriers = 0
        let (crashingPlan, crashingState, crashingRunner) = try fresh()
        #expect(throws: Crash.self) {
            try crashingRunner.run(crashingPlan, state: crashingState) { progress, _ in
                let snapshot = PlanSnapshot(crashingState, progress: progress)
                saved = (try JSONEncoder().encode(snapshot.header), snapshot.tensors)
                barriers += 1
                if barriers == crashAfter { throw Crash() }
            }
        }
        let (resumedPlan, resumedState, resumedRunner) = try fresh()
        let snapshot = PlanSnapshot(
            header: try JSONDecoder().decode(PlanSnapshot.Header.self, from: try #require(saved).header),
            tensors: try #require(saved).tensors)
        try snapshot.restore(into: resumedState)
        let resumedLogs = try resumedRunner.run(resumedPlan, state: resumedState, resume: snapshot.header.progress)
        #expect(BitHash.of(resumedState.student.stateDict().map(\.tensor)) == expected)
        #expect(resumedLogs.map { $0.losses.map(\.bitPattern) } == logs.map { $0.losses.map(\.bitPattern) })
        #expect(resumedLogs.map(\.steps) == logs.map(\.steps))
    }
}
