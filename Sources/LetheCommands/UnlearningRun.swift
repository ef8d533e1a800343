import Checkpoint
import Cluster
import Foundation
import NN
import Tensor
import Transport
import Unlearning
import Wire

/// One unlearning request from scenario to report and weights: what `lethe unlearn` runs in process and the
/// coordinator runs for `lethe submit`. `execute` runs the plan (locally or on workers) and says which training
/// samples it read.
struct UnlearningRun {
    /// Runs a plan; returns its phase logs, the training samples it read and the seconds an interrupted run had
    /// spent before it was resumed (0 for a fresh run).
    typealias Execute = (Plan, PlanState) async throws -> (
        phases: [PhaseLog], touched: Set<Int>, earlierSeconds: Double
    )

    let method: any UnlearningMethod
    let parameters: MethodParameters
    let scenario: Scenario
    let architecture: String
    /// The input checkpoint as the user named it, and its hash.
    let weights: String
    let inputSha256: String
    let seed: UInt64
    let shards: Int
    let reference: (name: String, model: Model)?

    func build(seed: UInt64) -> Model { try! ModelSpec.build(architecture, seed: seed) }

    /// Runs the method, verifies before and after, judges the result against its targets (`Acceptance`) and
    /// writes the unlearned weights to `out` when it passed (or `keep-failed` is set); the caller reports a failed
    /// verdict (`UnlearningReport.verdict`) after writing the report. `stage` hears what it is doing (`JobStage`)
    /// and the plan's steps.
    func perform(
        out: URL, outName: String, stage: (_ stage: String, _ totalSteps: Int) -> Void = { _, _ in },
        execute: Execute
    ) async throws -> (report: UnlearningReport, student: Model) {
        let problem = UnlearningProblem(
            train: scenario.train, forgetSet: scenario.forgetSet, validation: scenario.validation,
            parameters: parameters, seed: seed, recipe: scenario.recipe, architecture: build(seed:))
        try parameters.checkShards(shards, recipe: scenario.recipe)
        let plan = try method.plan(for: problem)
        let original = scenario.model
        let forget = scenario.forgetSet
        log(
            "\(method.name) on \(original.architecture): forgetting \(forget.selection) (\(forget.forget.count) samples, \(forget.retain.count) retained, \(scenario.validation.count) validation), \(plan.totalSteps) steps"
        )
        let verifier = Verifier(
            train: scenario.train, test: scenario.test, forgetSet: forget, seed: seed, validation: scenario.validation)
        let baselines = verifier.baselines(randomModel: build(seed: seed &+ 0x5EED), reference: reference?.model)
        stage(JobStage.verifyingBefore, plan.totalSteps)
        let before = try verifier.verify(original, against: baselines)
        let target = Acceptance.forgetTarget(
            parameters, forgetSet: forget,
            heldOut: ForgetTarget.heldOut(original, problem: problem, test: scenario.test))
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
        let outputSha256 = try BlobStore.sha256(contentsOf: written)
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
            chosenAlpha: ChosenAlpha(state.scalars), verdict: verdict,
            blas: BLAS.kernelIdentity)
        return (report, student)
    }

    /// Runs the plan on `pool`'s workers from a thread of its own; the job's dataset and original must be blobs.
    /// With a `snapshot` it continues that run; `persist` is offered a snapshot at every barrier.
    static func onWorkers(
        _ pool: WorkerPool, job: String, shards: Int, datasetSHA256: String, labels: [Int], originalSHA256: String,
        architecture: String, progress: ProgressHandler?, snapshot: PlanSnapshot? = nil,
        persist: (@Sendable (Bool, () -> PlanSnapshot) -> Void)? = nil
    ) -> Execute {
        { plan, state in
            let executor = RemoteExecutor(
                pool: pool, job: job, shards: shards, datasetSHA256: datasetSHA256, labels: labels,
                originalSHA256: originalSHA256, architecture: architecture)
            try snapshot?.restore(into: state)
            executor.touchedSamples = Set(snapshot?.header.touched ?? [])
            let (earlierSeconds, resumed) = (snapshot?.header.seconds ?? 0, Date())
            let handoff = Handoff((plan, state, executor, PlanRunner(executor: executor, progress: progress)))
            let phases = try await DedicatedThread.run(name: "lethe.job.\(job)") {
                let (plan, state, executor, runner) = handoff.value
                return try runner.run(plan, state: state, resume: snapshot?.header.progress) { progress, phaseEnded in
                    persist?(phaseEnded) {
                        PlanSnapshot(
                            state, progress: progress, touched: executor.touchedSamples,
                            seconds: earlierSeconds + Date().timeIntervalSince(resumed))
                    }
                }
            }
            return (phases, handoff.value.2.touchedSamples, earlierSeconds)
        }
    }
}
