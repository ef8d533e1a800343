import Checkpoint
import Data
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
    /// Keeps the original's predictions and reusable phases' outcomes for later runs on the same original (nil:
    /// always computed).
    public let cache: RunCache?
    /// The sha256s of `DatasetBlob.encode(scenario.train)` and `(scenario.test)` when the caller knows them (a
    /// coordinator's blob hashes); nil: computed when the cache's keys need them.
    public let dataDigest: DatasetDigest?
    /// Hears what the run is about to do (one line each).
    public let log: (String) -> Void
    /// Predicts the training samples at the given indices for a verification (the bulk of its pass) elsewhere: a
    /// coordinator's workers. nil: in process. Either way the figures are the same (predictions go in the
    /// evaluator's batches).
    public var trainPredictor: ((Model, _ indices: [Int]) async throws -> Evaluator.Predictions)?

    public init(
        method: any UnlearningMethod, parameters: MethodParameters, scenario: Scenario, architecture: String,
        weights: String, inputSha256: String, seed: UInt64, shards: Int, reference: (name: String, model: Model)?,
        unseen: UnseenConfidence? = nil, cache: RunCache? = nil, dataDigest: DatasetDigest? = nil,
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
        self.cache = cache
        self.dataDigest = dataDigest
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
        if scenario.train.isRegression {
            return try await performRegression(out: out, outName: outName, stage: stage, execute: execute)
        }
        let problem = UnlearningProblem(
            train: scenario.train, forgetSet: scenario.forgetSet, validation: scenario.validation,
            parameters: parameters, seed: seed, recipe: scenario.recipe, architecture: build(seed:),
            unseen: unseen)
        try parameters.checkShards(shards, recipe: scenario.recipe)
        var timings = RunTimings()
        // The data's digests name it in the cache's keys (computed once, only with a cache).
        let digests = try timings.measure("data digest") {
            try cache.map {
                try dataDigest ?? DatasetDigest(train: scenario.train, test: scenario.test, memo: $0.digests)
            }
        }
        let trainSha256 = digests?.trainSha256
        var plan = try method.checkedPlan(for: problem)
        var reusedPhases: [PhaseReuse.Reused] = []
        if let cache, let trainSha256 {
            (plan, reusedPhases) = PhaseReuse(
                store: cache.phases, modelSha256: inputSha256, architecture: architecture, trainSha256: trainSha256,
                shards: shards
            ).apply(to: plan)
        }
        for reused in reusedPhases { log("reusing \(reused.phase) from an earlier run on this original") }
        let original = scenario.model
        let forget = scenario.forgetSet
        log(
            "\(method.name) on \(original.architecture): forgetting \(forget.selection) (\(forget.forget.count) samples, \(forget.retain.count) retained, \(scenario.validation.count) held out), \(plan.totalSteps) steps"
        )
        if let match = problem.difficultyMatch { log(match.summary) }
        let verifier = Verifier(
            train: scenario.train, test: scenario.test, forgetSet: forget, seed: seed, validation: scenario.validation,
            retainSample: Acceptance.retainSample(parameters))
        let (baselines, baselinesReused) = timings.measure("baselines") {
            verificationBaselines(verifier, digests: digests)
        }
        stage(JobStage.verifyingBefore, plan.totalSteps)
        let (before, reused, originalPredictions) = try await timings.measure("before") {
            try await verifyBefore(original, verifier: verifier, baselines: baselines, digests: digests, plan: plan)
        }
        let target = timings.measure("forget target") {
            Acceptance.forgetTarget(
                parameters, forgetSet: forget,
                heldOut: ForgetTarget.heldOut(
                    original, problem: problem, source: scenario.holdout?.targetSource ?? "validation"))
        }
        stage(JobStage.running, plan.totalSteps)

        let (state, phases, touched, seconds) = try await runPlan(
            plan, from: original, originalPredictions: originalPredictions, execute: execute, timings: &timings)
        let student = state.student

        stage(JobStage.verifyingAfter, plan.totalSteps)
        let after = try await timings.measure("after") {
            try verifier.verify(try await predictions(of: student, verifier: verifier), against: baselines)
        }
        let anamnesis = timings.measure("relearning") { relearning(student, goal: .accuracy(before.forgetAccuracy)) }
        let judged = Acceptance.judge(before: before, after: after, target: target, parameters: parameters)
        let verdict = method.isReference ? judged.asReference() : judged
        let outputSha256 = try timings.measure("write") {
            try writeOutput(student, to: out, keep: verdict.passed || parameters.bool("keep-failed"))
        }

        var report = UnlearningReport(
            method: method.name, params: parameters.values, model: original.architecture, weights: weights,
            inputSha256: inputSha256,
            forget: forgetDescription(classes: forget.forgottenClasses),
            seed: seed, shards: shards, seconds: seconds, before: before, after: after,
            outputSha256: outputSha256, out: outName, reference: reference?.name,
            dataTouched: dataTouched(touched),
            anamnesis: anamnesis, phases: phases.map { $0.curve() },
            chosenEpoch: state.scalars["rewind.chosen-epoch"].map(Int.init),
            chosenAlpha: ChosenAlpha(state.scalars), leakGuard: LeakGuardChoice(state.scalars), verdict: verdict,
            holdout: scenario.holdout, preprocessing: scenario.preprocessing,
            methodChoice: scenario.methodChoice ?? .given(method.name),
            perClass: ClassFidelity.compare(
                before: before.perClassAccuracy, after: after.perClassAccuracy,
                retrain: baselines.referencePerClassAccuracy, forgotten: forget.forgottenClasses ?? []),
            blas: BLAS.kernelIdentity, difficultyMatch: problem.difficultyMatch,
            reused: (reused + baselinesReused + reusedPhases.map { "phase \($0.phase) \($0.key)" }).nilIfEmpty)
        report.timings = timings
        return (report, student)
    }

    /// With a reference: how many steps relearning the forget set takes the unlearned and the reference model.
    func relearning(_ student: Model, goal: Relearning.Goal) -> Anamnesis? {
        reference.map { reference in
            let relearning = Relearning(seed: seed)
            let forget = scenario.forgetSet.forget
            return Anamnesis(
                steps: relearning.steps(student, on: scenario.train, forget: forget, goal: goal),
                referenceSteps: relearning.steps(reference.model, on: scenario.train, forget: forget, goal: goal),
                maximumSteps: relearning.maximumSteps)
        }
    }

    /// The original's verification, from its predictions on the training samples the verification measures and
    /// those the plan asks the original for (`Plan.originalRows`; returned, for the plan), and every test sample.
    /// With a cache, what an earlier run on the same original and data predicted comes from it and the rest is
    /// predicted and kept with it: no sample is predicted twice, whatever forget set a later run has.
    func verifyBefore(
        _ original: Model, verifier: Verifier, baselines: Verifier.Baselines, digests: DatasetDigest?, plan: Plan
    ) async throws -> (VerificationReport, reused: [String], predictions: ModelPredictions) {
        let needed = IndexMask(verifier.measuredTrainIndices + plan.originalRows).sorted
        guard let store = cache?.predictions, let digests else {
            let predictions = try await predictions(of: original, verifier: verifier, trainIndices: needed)
            return (try verifier.verify(predictions, against: baselines), [], predictions)
        }
        let key = DirectoryPredictionStore.key(
            modelSha256: inputSha256, architecture: architecture, trainSha256: digests.trainSha256,
            testSha256: digests.testSha256)
        let cached = store.load(key: key, train: scenario.train, test: scenario.test)
        let held = IndexMask(cached?.heldTrainIndices ?? [])
        let missing = needed.filter { !held.contains($0) }
        let predictions: ModelPredictions
        if let cached {
            log(
                "before: reusing the original's predictions on \(needed.count - missing.count) of the \(needed.count) training samples it needs from earlier runs on the same data (\(key.prefix(12)))"
                    + (missing.isEmpty ? "" : ", predicting \(missing.count)"))
            predictions =
                missing.isEmpty
                ? cached
                : cached.adding(
                    try await trainPredictions(of: original, indices: missing), at: missing,
                    trainCount: scenario.train.count)
        } else {
            predictions = try await self.predictions(of: original, verifier: verifier, trainIndices: missing)
        }
        if !missing.isEmpty { store.save(predictions, key: key, train: scenario.train, test: scenario.test) }
        let reused = cached == nil ? [] : ["original's predictions \(key)"]
        return (try verifier.verify(predictions, against: baselines), reused, predictions)
    }

    /// The verification's baselines: from the cache when an earlier run on the same forget set, seed, data and
    /// reference kept them, else computed (and kept).
    func verificationBaselines(_ verifier: Verifier, digests: DatasetDigest?) -> (Verifier.Baselines, reused: [String])
    {
        let randomSeed = seed &+ 0x5EED
        let reuse = cache.flatMap { cache in
            digests.map { digests in
                BaselineReuse(
                    store: cache.baselines, architecture: architecture, randomSeed: randomSeed,
                    data: digests, test: scenario.test,
                    forget: scenario.forgetSet.forget, reference: reference?.model)
            }
        }
        if let reuse, let stored = reuse.load() {
            log(
                "baselines: reusing the random and reference models' figures from an earlier run (\(reuse.key.prefix(12)))"
            )
            return (stored, ["baselines \(reuse.key)"])
        }
        let baselines = verifier.baselines(randomModel: build(seed: randomSeed), reference: reference?.model)
        reuse?.save(baselines)
        return (baselines, [])
    }

    /// `model`'s predictions on the training samples at `trainIndices` (by default those the verifier measures)
    /// and every test sample, the training samples' from `trainPredictor` when there is one.
    func predictions(of model: Model, verifier: Verifier, trainIndices: [Int]? = nil) async throws
        -> ModelPredictions
    {
        let trainIndices = trainIndices ?? verifier.measuredTrainIndices
        return verifier.predictions(
            of: model, trainIndices: trainIndices, train: try await trainPredictions(of: model, indices: trainIndices))
    }

    /// `model`'s predictions on the training samples at `indices`: from `trainPredictor` when there is one.
    func trainPredictions(of model: Model, indices: [Int]) async throws -> Evaluator.Predictions {
        guard let trainPredictor else { return Evaluator.predict(model, on: scenario.train, indices: indices) }
        return try await trainPredictor(model, indices)
    }
}

extension Array {
    /// nil for an empty array (for report fields that are absent rather than empty).
    var nilIfEmpty: [Element]? { isEmpty ? nil : self }
}
