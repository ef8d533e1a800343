import Checkpoint
import Data
import Foundation
import Jobs
import NN
import Transport
import Unlearning
import Wire

/// What the coordinator runs for each job: the same `UnlearningRun` as `lethe unlearn` (from the `Jobs` module),
/// on the pool's workers; federated training and client forgetting with the clients.
public enum CoordinatorJobs {
    @Sendable public static func run(_ job: StoredJob, _ environment: Coordinator.JobEnvironment) async throws
        -> JobOutputs
    {
        switch job.spec.kind {
        case JobKind.federated?: return try await FederatedJobs.train(job, environment)
        case JobKind.forgetClient?: return try await FederatedJobs.forget(job, environment)
        case JobKind.auditReference?: return try await AuditReferenceJobs.train(job, environment)
        default: break
        }
        let spec = job.spec
        let blobs = environment.blobs
        guard let method = UnlearningMethods.named(spec.method) else {
            throw ProtocolError(.badRequest, "unknown method '\(spec.method)'")
        }
        let inputs = try JobInputs(spec, blobs: blobs)
        let (train, scenario, reference) = (inputs.train, inputs.scenario, inputs.reference)
        // The references are checked (and fitted) before any work, as `lethe unlearn --references` does.
        let audit = try spec.auditSHA256.map { try AuditBundle.decode(try blobs.data($0)) }
        let auditor = try audit.map { try inputs.auditor($0, spec: spec, blobs: blobs, log: environment.log) }
        var run = UnlearningRun(
            method: method, parameters: try MethodParameters(method.allParameters, overrides: spec.params),
            scenario: scenario, architecture: spec.architecture, weights: spec.weightsName,
            inputSha256: spec.weightsSHA256, seed: spec.seed, shards: spec.shards, reference: reference,
            unseen: try auditor.flatMap { auditor in
                try auditor.unseenConfidence(for: scenario) { try! ModelSpec.build(spec.architecture, seed: 0) }
            }, cache: environment.cache,
            dataDigest: DatasetDigest(name: train.name, trainBlob: spec.trainSHA256, testBlob: spec.testSHA256),
            log: environment.log)
        run.trainPredictor = trainPredictor(job, environment, labels: train.labels)
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("lethe-\(job.id)-\(UUID()).safetensors")
        defer { try? FileManager.default.removeItem(at: out) }
        var (report, student) = try await run.perform(
            out: out, outName: "\(job.id).safetensors", stage: environment.stage
        ) { plan, state in
            try await UnlearningRun.onWorkers(
                environment.pool, job: job.id, shards: spec.shards, datasetSHA256: spec.trainSHA256,
                labels: train.labels, originalSHA256: spec.weightsSHA256, architecture: spec.architecture,
                progress: progress(environment), snapshot: environment.snapshot, persist: environment.persist)(
                    plan, state)
        }
        if let auditor {
            report.judge(
                by: try auditor.verdict(
                    of: student, out: "\(job.id).safetensors", original: spec.weightsName, retrain: reference))
        }
        return try store(&report, weights: out, of: job, scenario: scenario, audit: audit, environment)
    }

    /// Stores a finished run's weights, report and certificate as blobs. A run that missed its targets throws: with
    /// its outputs when they are kept (`keep-failed`), and never gets a certificate, since nothing was removed that
    /// one could vouch for.
    private static func store(
        _ report: inout UnlearningReport, weights out: URL, of job: StoredJob, scenario: Scenario,
        audit: AuditBundle?, _ environment: Coordinator.JobEnvironment
    ) throws -> JobOutputs {
        let blobs = environment.blobs
        let missed = report.missedTargets
        if let missed, !missed.kept { throw missed }
        var certificate: String?
        if missed == nil, let key = environment.signingKey {
            certificate = try JobCertificate(job: job, blobs: blobs, key: key).issue(
                &report, scenario: scenario, audit: audit)
        }
        let outputs = JobOutputs(
            id: job.id, weightsSHA256: try blobs.put(contentsOf: out),
            reportSHA256: try blobs.put(JSONEncoder.sorted.encode(report)),
            htmlSHA256: try blobs.put(Data(HTMLReport.render(report).utf8)), certificateSHA256: certificate)
        if let missed { throw JobFailedWithOutputs(outputs: outputs, reason: missed) }
        return outputs
    }

    /// The workers predict the training samples of the job's verifications, in the evaluator's batches (so the
    /// figures are the ones a local pass gives); the coordinator predicts the test set itself.
    static func trainPredictor(_ job: StoredJob, _ environment: Coordinator.JobEnvironment, labels: [Int])
        -> (Model, [Int]) async throws -> Evaluator.Predictions
    {
        let spec = job.spec
        return { model, indices in
            let (student, started) = (Handoff(model), Date())
            let predictions = try await DedicatedThread.run(name: "lethe.job.\(job.id).verify") {
                let executor = RemoteExecutor(
                    pool: environment.pool, job: job.id, shards: spec.shards, datasetSHA256: spec.trainSHA256,
                    labels: labels, originalSHA256: spec.weightsSHA256, architecture: spec.architecture)
                return try executor.predict(
                    PredictionRequest(subject: .student, indices: indices),
                    state: PlanState(student: student.value))
            }
            let seconds = String(format: "%.1f", Date().timeIntervalSince(started))
            environment.log("verification: the workers predicted \(indices.count) training samples in \(seconds) s")
            return predictions
        }
    }

    /// Reports a plan's progress as the job's phases (for `lethe status` and `lethe watch`).
    static func progress(_ environment: Coordinator.JobEnvironment) -> ProgressHandler {
        { phase in
            environment.progress(
                PhaseStatus(
                    name: phase.phase, completed: phase.completed, total: phase.total, lastLoss: phase.loss,
                    stoppedEarly: phase.stoppedEarly))
        }
    }
}

/// What an unlearning job reads from the blob store: the original, the data, the scenario and the reference.
private struct JobInputs {
    let model: Model
    let train: Dataset
    let test: Dataset
    let bundle: ScenarioBundle
    let scenario: Scenario
    let reference: (String, Model)?

    init(_ spec: JobSpec, blobs: BlobStore) throws {
        model = try ModelSpec.build(spec.architecture, seed: 0)
        try ModelCheckpoint.load(blobs.url(of: spec.weightsSHA256), into: model)
        train = try DatasetBlob.decode(try blobs.data(spec.trainSHA256))
        test = try DatasetBlob.decode(try blobs.data(spec.testSHA256))
        bundle = try JSONDecoder().decode(ScenarioBundle.self, from: try blobs.data(spec.scenarioSHA256))
        scenario = try bundle.scenario(model: model, train: train, test: test)
        reference = try spec.referenceSHA256.map { sha256 -> (String, Model) in
            let model = try ModelSpec.build(spec.architecture, seed: 0)
            try ModelCheckpoint.load(blobs.url(of: sha256), into: model)
            return ("blob \(sha256)", model)
        }
    }

    /// The membership audit's auditor, fitted on the references the job names (the job's own data where the
    /// audit names it, else the blobs it names).
    func auditor(
        _ audit: AuditBundle, spec: JobSpec, blobs: BlobStore, log: @escaping @Sendable (String) -> Void
    ) throws -> ReferenceAuditor {
        let dataset = { (sha256: String, uploaded: Dataset, uploadedSHA256: String) in
            sha256 == uploadedSHA256 ? uploaded : try DatasetBlob.decode(try blobs.data(sha256))
        }
        return try audit.auditor(
            original: model, scenario: bundle, train: try dataset(audit.dataset.sha256, train, spec.trainSHA256),
            test: try dataset(audit.testSha256, test, spec.testSHA256), seed: spec.seed, what: spec.weightsName,
            blob: blobs.url(of:), build: { try! ModelSpec.build(spec.architecture, seed: 0) }, log: log)
    }
}
