import Checkpoint
import Foundation
import NN
import Tensor
import Unlearning
import Wire

/// A regression model's run: the same plan and execution as a classifier's, judged by L1 errors against the
/// retrain (`RegressionComparison`) instead of accuracies against forget targets.
extension UnlearningRun {
    func performRegression(
        out: URL, outName: String, stage: (_ stage: String, _ totalSteps: Int) -> Void, execute: Execute
    ) async throws -> (report: UnlearningReport, student: Model) {
        let problem = UnlearningProblem(
            train: scenario.train, forgetSet: scenario.forgetSet, validation: scenario.validation,
            parameters: parameters, seed: seed, recipe: scenario.recipe, architecture: build(seed:))
        try parameters.checkShards(shards, recipe: scenario.recipe)
        guard parameters.int("verify-retain") <= 0 else {
            throw MethodParameterError.outOfRange(
                "verify-retain samples a classifier's retain accuracy; a regression run measures every retained sample (leave it at -1 or 0)"
            )
        }
        let plan = try method.checkedPlan(for: problem)
        let original = scenario.model
        let forget = scenario.forgetSet
        log(
            "\(method.name) on \(original.architecture) (regression): forgetting \(forget.selection) (\(forget.forget.count) samples, \(forget.retain.count) retained, \(scenario.validation.count) held out), \(plan.totalSteps) steps"
        )
        func evaluate(_ model: Model) -> RegressionEvaluation {
            RegressionMetrics.evaluate(
                model, train: scenario.train, test: scenario.test, forgetSet: forget, validation: scenario.validation,
                seed: seed)
        }
        var timings = RunTimings()
        stage(JobStage.verifyingBefore, plan.totalSteps)
        let before = timings.measure("before") { evaluate(original) }
        let referenceFigures = timings.measure("baselines") { reference.map { evaluate($0.model) } }
        stage(JobStage.running, plan.totalSteps)

        let (state, phases, touched, seconds) = try await runPlan(
            plan, from: original, execute: execute, timings: &timings)
        let student = state.student

        stage(JobStage.verifyingAfter, plan.totalSteps)
        let after = timings.measure("after") { evaluate(student) }
        let anamnesis = timings.measure("relearning") { relearning(student, goal: .error(before.forget.l1)) }
        let comparison = RegressionComparison(
            before: before, after: after, reference: referenceFigures, isReference: method.isReference)
        let outputSha256 = try timings.measure("write") {
            try writeOutput(student, to: out, keep: comparison.passed != false || parameters.bool("keep-failed"))
        }
        var report = UnlearningReport(
            method: method.name, params: parameters.values, model: original.architecture, weights: weights,
            inputSha256: inputSha256,
            forget: forgetDescription(classes: nil),
            seed: seed, shards: shards, seconds: seconds, before: nil, after: nil,
            outputSha256: outputSha256, out: outName, reference: reference?.name,
            dataTouched: dataTouched(touched),
            anamnesis: anamnesis, phases: phases.map { $0.curve() }, chosenEpoch: nil, chosenAlpha: nil, leakGuard: nil,
            verdict: nil, holdout: scenario.holdout, preprocessing: scenario.preprocessing,
            methodChoice: scenario.methodChoice ?? .given(method.name), perClass: nil, blas: BLAS.kernelIdentity,
            difficultyMatch: nil, reused: nil)
        report.regression = comparison
        report.timings = timings
        return (report, student)
    }
}
