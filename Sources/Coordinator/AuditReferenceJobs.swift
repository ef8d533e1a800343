import Checkpoint
import Data
import Foundation
import Jobs
import NN
import Transport
import Unlearning
import Wire

/// A coordinator's `audit-reference` job (`lethe audit prepare --coordinator`): one reference model of the
/// membership audit, trained on the workers. It is the plan `lethe audit prepare` trains locally
/// (`ReferenceTraining`), from the same initialisation, so it writes the same bits; the K references of an audit
/// are K independent jobs, spread over the workers.
enum AuditReferenceJobs {
    /// What the job's JSON report says.
    struct Report: Codable {
        let reference: ReferenceTraining
        let members: Int
        let epochs: [EpochReport]
        let seconds: Double
    }

    static func train(_ job: StoredJob, _ environment: Coordinator.JobEnvironment) async throws -> JobOutputs {
        let (spec, blobs) = (job.spec, environment.blobs)
        let started = Date()
        let training = try ReferenceTraining.decode(try blobs.data(spec.scenarioSHA256))
        let trainingSet = try DatasetBlob.decode(try blobs.data(spec.trainSHA256))
        let members = training.members(of: trainingSet)
        let samples = training.split.applying(to: trainingSet)
        let trainer = try training.trainer()
        let plan = trainer.plan(indices: members, labels: samples.labels)
        environment.stage("training", plan.phases.reduce(0) { $0 + $1.stepCount })
        // The workers start from the untrained model (their "original") and read the split's training samples.
        let initial = try blobs.put(checkpointOf: trainer.model, job: job.id)
        let samplesSHA256 =
            training.split.confusion == nil ? spec.trainSHA256 : try blobs.put { try DatasetBlob.stream(samples, $0) }
        let state = PlanState(student: trainer.model, optimizers: plan.makeOptimizers())
        let (logs, _, earlierSeconds) = try await UnlearningRun.onWorkers(
            environment.pool, job: job.id, shards: training.referenceRecipe.shards, datasetSHA256: samplesSHA256,
            labels: samples.labels, originalSHA256: initial, architecture: training.architecture,
            progress: CoordinatorJobs.progress(environment), snapshot: environment.snapshot,
            persist: environment.persist)(plan, state)
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("lethe-\(job.id)-\(UUID()).safetensors")
        defer { try? FileManager.default.removeItem(at: out) }
        try training.save(trainer.model, to: out, datasetName: trainingSet.name, members: members.count)
        let report = Report(
            reference: training, members: members.count, epochs: trainer.reports(logs),
            seconds: earlierSeconds + Date().timeIntervalSince(started))
        let summary =
            "reference \(training.index + 1) of \(training.references) (seed \(training.seed)): "
            + "\(members.count) members, \(training.referenceRecipe.epochs) epochs"
        return JobOutputs(
            id: job.id, weightsSHA256: try blobs.put(contentsOf: out),
            reportSHA256: try blobs.put(JSONEncoder.sorted.encode(report)),
            htmlSHA256: try blobs.put(Data("<!doctype html><title>\(job.id)</title><p>\(summary)</p>\n".utf8)))
    }
}

extension BlobStore {
    /// Stores a model's weights as a checkpoint blob; returns its hash.
    fileprivate func put(checkpointOf model: Model, job: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("lethe-\(job)-\(UUID()).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try ModelCheckpoint.save(model, to: url)
        return try put(contentsOf: url)
    }
}
