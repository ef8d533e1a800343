import LetheTesting
import NN
import Tensor
import Testing

@testable import Unlearning

/// Gated knowledge transfer: the gate, the leak guard, determinism, zero data and bad input.
struct GKTTests {
    let toy = ToyProblem()

    /// Checks, for every step it computes, that no row of a generated-image part has a forgotten-class
    /// probability above τ under the teacher, and counts the rows it checked.
    final class GateWitness: StepExecutor {
        let inner: LocalExecutor
        let teacher: Model
        let threshold: Float
        var checkedRows = 0
        var leakedRows = 0

        init(_ inner: LocalExecutor, teacher: Model, threshold: Float) {
            self.inner = inner
            self.teacher = teacher
            self.threshold = threshold
        }

        var touchedSamples: Set<Int> { inner.touchedSamples }

        func gradient(_ step: GradientStep, state: PlanState) throws -> StepOutcome {
            for part in step.parts {
                guard case .tensorRows(let name, let rows) = part.inputs, name == GKTState.images else { continue }
                let probabilities = softmax(
                    teacher.forward(state.tensors[name]!.gather(rows: rows), mode: .inference))
                checkedRows += rows.count
                leakedRows += (0..<rows.count).filter { probabilities.scalars[$0 * 10] > threshold }.count
            }
            return try inner.gradient(step, state: state)
        }

        func predict(_ request: PredictionRequest, state: PlanState) throws -> Evaluator.Predictions {
            try inner.predict(request, state: state)
        }
    }

    @Test func gateKeepsOnlyRowsTheTeacherGivesEveryForgottenClassAtMostTau() {
        // Row 0: class 0 at ≈ 0.6; row 1: every class ≈ 0.1; row 2: classes 0 and 2 far below 1%; row 3: class 2
        // at ≈ 0.5.
        let logits = Tensor(
            shape: [4, 3],
            scalars: [2, 1.6, 0, 0, 0, 0, -5, 3, -5, 0, -1, 0])
        let (rows, labels) = GKTModels.gate(teacherLogits: logits, forgotten: [0, 2], threshold: 0.01)
        #expect(rows == [2] && labels == [1])
        #expect(GKTModels.gate(teacherLogits: logits, forgotten: [0], threshold: 0.5).rows == [1, 2, 3])
    }

    @Test func noGatedOutImageReachesTheStudentAndNoSampleIsRead() throws {
        let method = GKT()
        let problem = try toy.problem(method, .classes([0]))
        let original = try toy.original()
        let plan = try method.plan(for: problem)
        let witness = GateWitness(
            LocalExecutor(dataset: toy.train, shards: 2, original: original) { ModelZoo.fmnistMLP(seed: $0) },
            teacher: original, threshold: 0.01)
        let state = PlanState(student: original.copy(), optimizers: plan.makeOptimizers())
        try PlanRunner(executor: witness).run(plan, state: state)
        #expect(witness.checkedRows > 0)
        #expect(witness.leakedRows == 0)
        #expect(witness.touchedSamples.isEmpty)
        #expect(state.scalars[GKT.lastCheckpoint] == 4)
        #expect(!state.tensors.keys.contains { $0.hasPrefix("gkt.") })
    }

    /// The guard keeps the last checkpoint at or under the target: a later one that leaks is not returned.
    @Test func leakGuardReturnsTheLastCheckpointBeforeALeak() throws {
        let state = PlanState(student: ModelZoo.fmnistMLP(seed: 1))
        state.scalars[ForgetTarget.key] = 0.05
        func move(seed: UInt64) throws { try state.student.load(stateDict: ModelZoo.fmnistMLP(seed: seed).stateDict()) }
        GKTLeakGuard.record(checkpoint: 50, score: 0.0, probeSize: 8, state)
        try move(seed: 2)
        GKTLeakGuard.record(checkpoint: 100, score: 0.04, probeSize: 8, state)
        let kept = BitHash.of(state.student.stateDict().map(\.tensor))
        try move(seed: 3)
        GKTLeakGuard.record(checkpoint: 150, score: 0.6, probeSize: 8, state)
        try move(seed: 4)
        GKTLeakGuard.record(checkpoint: 200, score: 0.75, probeSize: 8, state)
        try GKTLeakGuard.returnChosen(state)
        #expect(BitHash.of(state.student.stateDict().map(\.tensor)) == kept)
        #expect(state.scalars[GKT.returnedCheckpoint] == 100 && state.scalars[GKT.firstLeak] == 150)
        #expect(state.scalars[GKT.lastCheckpoint] == 200)
        #expect(state.scalars[GKT.checkpointScorePrefix + "150"] == 0.6)
    }

    /// `leak-guard=false` returns the last state even after a leak (to measure what the guard prevents).
    @Test func withTheGuardOffTheLastStateStays() throws {
        let state = PlanState(student: ModelZoo.fmnistMLP(seed: 1))
        state.scalars[ForgetTarget.key] = 0.05
        GKTLeakGuard.record(checkpoint: 50, score: 0.0, probeSize: 8, state)
        try state.student.load(stateDict: ModelZoo.fmnistMLP(seed: 2).stateDict())
        GKTLeakGuard.record(checkpoint: 100, score: 0.6, probeSize: 8, state)
        let last = BitHash.of(state.student.stateDict().map(\.tensor))
        try GKTLeakGuard.returnChosen(state, guarded: false)
        #expect(BitHash.of(state.student.stateDict().map(\.tensor)) == last)
        #expect(state.scalars[GKT.guardOff] == 1 && state.scalars[GKT.returnedCheckpoint] == 50)
    }

    @Test func withoutAPassingCheckpointTheLastStateStays() throws {
        let state = PlanState(student: ModelZoo.fmnistMLP(seed: 1))
        GKTLeakGuard.record(checkpoint: 50, score: 0.3, probeSize: 8, state)
        let last = BitHash.of(state.student.stateDict().map(\.tensor))
        try GKTLeakGuard.returnChosen(state)
        #expect(BitHash.of(state.student.stateDict().map(\.tensor)) == last)
        #expect(state.scalars[GKT.returnedCheckpoint] == nil && state.scalars[GKT.firstLeak] == nil)
    }

    @Test(arguments: [1, 3])
    func sameSeedAndShardsGiveTheSameBits(shards: Int) throws {
        let first = try toy.run("gkt", shards: shards).student
        let second = try toy.run("gkt", shards: shards).student
        #expect(BitHash.of(first.stateDict().map(\.tensor)) == BitHash.of(second.stateDict().map(\.tensor)))
    }

    @Test func refusesInputsTheGeneratorCannotMakeAndSampleSelections() throws {
        let method = GKT()
        let base = try toy.problem(method, .classes([0]))
        let wide = UnlearningProblem(
            train: base.train, forgetSet: base.forgetSet, validation: base.validation, parameters: base.parameters,
            seed: 1, recipe: base.recipe
        ) { seed in
            var generator = SeededGenerator(seed: seed)
            return Model(
                architecture: "mlp-30", inputShape: [1, 30, 30], classCount: 10,
                root: Sequential([(nil, Flatten()), ("fc", Linear(900, 10, using: &generator))]))
        }
        let error = try #require(throws: GeneratorShapeError.self) { try method.plan(for: wide) }
        #expect(error.description.contains("multiple of 4") && error.description.contains("[1, 30, 30]"))
        let listed = try toy.problem(method, .fraction(0.1, seed: 1))
        #expect(throws: MethodNotApplicable.self) { try method.plan(for: listed) }
        #expect(throws: MethodParameterError.self) {
            try method.plan(for: try toy.problem(method, .classes([0]), params: ["layers": "fc1"]))
        }
        #expect(throws: MethodParameterError.self) {
            try toy.problem(method, .classes([0]), params: ["leak-guard": "maybe"])
        }
    }
}
