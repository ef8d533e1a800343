import Checkpoint
import Foundation
import NN
import Tensor
import Unlearning
import Wire

/// One unlearning request from scenario to report and weights: what `lethe unlearn` runs in process and the
/// coordinator runs for `lethe submit`. `execute` runs the plan (locally or on workers) and says which training
/// samples it read.
public struct UnlearningRun {
    /// Runs a plan; returns its phase logs, the training samples it read and the seconds an interrupted run had
    /// spent before it was resumed (0 for a fresh run).
    public typealias Execute = (Plan, PlanState) async throws -> (
        phases: [PhaseLog], touched: Set<Int>, earlierSeconds: Double
    )

    public let method: any UnlearningMethod
    public let parameters: MethodParameters
    public let scenario: Scenario
    public let architecture: String
    /// The input checkpoint as the user named it, and its hash.
    public let weights: String
    public let inputSha256: String
    public let seed: UInt64
    public let shards: Int
    public let reference: (name: String, model: Model)?
    /// What membership-audit references say about the forget samples and the held-out ones (`--references`).
    public let unseen: UnseenConfidence?
    /// Keeps "before" verifications for later runs on the same original (nil: always computed).
    public let verificationStore: VerificationStore?
    /// Hears what the run is about to do (one line each).
    public let log: (String) -> Void

    public init(
        method: any UnlearningMethod, parameters: MethodParameters, scenario: Scenario, architecture: String,
        weights: String, inputSha256: String, seed: UInt64, shards: Int, reference: (name: String, model: Model)?,
        unseen: UnseenConfidence? = nil, verificationStore: VerificationStore? = nil,
        log: @escaping (String) -> Void = { _ in }
    ) {
        self.method = method
        self.parameters = parameters
        self.scenario = scenario
        self.architecture = architecture
        self.weights = weights
        self.inputSha256 = inputSha256
        self.seed = seed
        self.shards = shards
        self.reference = reference
        self.unseen = unseen
        self.verificationStore = verificationStore
        self.log = log
    }

    public func build(seed: UInt64) -> Model { try! ModelSpec.build(architecture, seed: seed) }

    /// Runs the method, verifies before and after, judges the result against its targets (`Acceptance`) and
    /// writes the unlearned weights to `out` when it passed (or `keep-failed` is set); the caller reports a failed
    /// verdict (`UnlearningReport.verdict`) after writing the report. `stage` hears what it is doing (`JobStage`)
    /// and the plan's steps.
    public func perform(
        out: URL, outName: String, stage: (_ stage: String, _ totalSteps: Int) -> Void = { _, _ in },
        execute: Execute
    ) async throws -> (report: UnlearningReport, student: Model) {
        let problem = UnlearningProblem(
            train: scenario.train, forgetSet: scenario.forgetSet, validation: scenario.validation,
            parameters: parameters, seed: seed, recipe: scenario.recipe, architecture: build(seed:),
            unseen: unseen)
        try parameters.checkShards(shards, recipe: scenario.recipe)
        let plan = try method.plan(for: problem)
        let original = scenario.model
        let forget = scenario.forgetSet
        log(
            "\(method.name) on \(original.architecture): forgetting \(forget.selection) (\(forget.forget.count) samples, \(forget.retain.count) retained, \(scenario.validation.count) held out), \(plan.totalSteps) steps"
        )
        if let match = problem.difficultyMatch { log(match.summary) }
        let verifier = Verifier(
            train: scenario.train, test: scenario.test, forgetSet: forget, seed: seed, validation: scenario.validation)
        let baselines = verifier.baselines(randomModel: build(seed: seed &+ 0x5EED), reference: reference?.model)
        stage(JobStage.verifyingBefore, plan.totalSteps)
        let (before, reused) = try verifyBefore(original, verifier: verifier, baselines: baselines)
        let target = Acceptance.forgetTarget(
            parameters, forgetSet: forget,
            heldOut: ForgetTarget.heldOut(
                original, problem: problem, source: scenario.holdout?.targetSource ?? "validation"))
        stage(JobStage.running, plan.totalSteps)

        let state = PlanState(student: original.copy(), optimizers: plan.makeOptimizers())
        let start = Date()
        let (phases, touched, earlierSeconds) = try await execute(plan, state)
        let seconds = earlierSeconds + Date().timeIntervalSince(start)
        let student = state.student

        stage(JobStage.verifyingAfter, plan.totalSteps)
        let after = try verifier.verify(student, against: baselines)
        let anamnesis = reference.map { reference in
            let relearning = Relearning(seed: seed)
            return Anamnesis(
                steps: relearning.steps(
                    student, on: scenario.train, forget: forget.forget, target: before.forgetAccuracy),
                referenceSteps: relearning.steps(
                    reference.model, on: scenario.train, forget: forget.forget, target: before.forgetAccuracy),
                maximumSteps: relearning.maximumSteps)
        }
        var metadata = scenario.metadata.filter { $0.key.hasPrefix("lethe.") }
        metadata["lethe.unlearning"] = String(
            decoding: try JSONEncoder.sorted.encode(
                ["method": method.name, "forget": forget.selection.description, "source_sha256": inputSha256]),
            as: UTF8.self)
        metadata["lethe.blas"] = BLAS.kernelIdentity
        let verdict = Acceptance.judge(before: before, after: after, target: target, parameters: parameters)
        // Written beside `out` and moved into place only when it passed, so a failed run leaves no model behind.
        let written = out.deletingLastPathComponent().appendingPathComponent(".\(out.lastPathComponent).\(UUID())")
        defer { try? FileManager.default.removeItem(at: written) }
        try ModelCheckpoint.save(student, to: written, metadata: metadata)
        let outputSha256 = try sha256Hex(contentsOf: written)
        if verdict.passed || parameters.bool("keep-failed"), rename(written.path, out.path) != 0 {
            throw CocoaError(
                .fileWriteUnknown,
                userInfo: [
                    NSFilePathErrorKey: out.path, NSUnderlyingErrorKey: POSIXError(POSIXErrorCode(rawValue: errno)!),
                ])
        }

        let validation = Set(scenario.validation)
        let report = UnlearningReport(
            method: method.name, params: parameters.values, model: original.architecture, weights: weights,
            inputSha256: inputSha256,
            forget: ForgetDescription(
                selection: forget.selection.description, scenario: forget.selection.scenario,
                forgetSamples: forget.forget.count, retainSamples: forget.retain.count,
                validationSamples: validation.count, classes: forget.forgottenClasses),
            seed: seed, shards: shards, seconds: seconds, before: before, after: after,
            outputSha256: outputSha256, out: outName, reference: reference?.name,
            dataTouched: DataTouched(
                forget: forget.forget.filter(touched.contains).count,
                retain: forget.retain.filter(touched.contains).count,
                validation: validation.filter(touched.contains).count),
            anamnesis: anamnesis, phases: phases, chosenEpoch: state.scalars["rewind.chosen-epoch"].map(Int.init),
            chosenAlpha: ChosenAlpha(state.scalars), leakGuard: LeakGuardChoice(state.scalars), verdict: verdict,
            holdout: scenario.holdout,
            methodChoice: scenario.methodChoice ?? .given(method.name),
            perClass: ClassFidelity.compare(
                before: before.perClassAccuracy, after: after.perClassAccuracy,
                retrain: baselines.referencePerClassAccuracy, forgotten: forget.forgottenClasses ?? []),
            blas: BLAS.kernelIdentity, difficultyMatch: problem.difficultyMatch, reused: reused)
        return (report, student)
    }

    /// The original's verification: from the store when an earlier run on the same inputs left it there.
    func verifyBefore(_ original: Model, verifier: Verifier, baselines: Verifier.Baselines) throws -> (
        VerificationReport, reused: [String]?
    ) {
        guard let verificationStore else { return (try verifier.verify(original, against: baselines), nil) }
        let key = try verifier.cacheKey(original, modelSha256: inputSha256, baselines: baselines)
        if let cached = verificationStore.load(key: key) {
            log("before: reusing the verification of an earlier run on the same inputs (\(key.prefix(12)))")
            return (cached, ["before verification \(key)"])
        }
        let report = try verifier.verify(original, against: baselines)
        verificationStore.save(report, key: key)
        return (report, nil)
    }
}
