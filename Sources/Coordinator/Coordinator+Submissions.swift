import Foundation
import Jobs
import NN
import Transport
import Unlearning
import Wire

/// What a submitted job must be before it is queued (checked before any work, so a bad job costs nothing).
extension Coordinator {
    /// A forget-client job starts from its source job's outputs: they become its inputs (for the audit trail).
    func resolve(_ spec: JobSpec) throws -> JobSpec {
        guard spec.kind == JobKind.forgetClient else { return spec }
        guard let source = spec.sourceJob, let client = spec.client, !client.isEmpty else {
            throw ProtocolError(.badRequest, "forget-client needs the federated job and the client to forget")
        }
        let job = try known(source)
        guard job.spec.kind == JobKind.federated else {
            throw ProtocolError(.badRequest, "\(source) is not a federated training job")
        }
        guard job.state == .succeeded, let outputs = job.outputs, let ledger = outputs.ledgerSHA256 else {
            throw ProtocolError(.badRequest, "\(source) is \(job.state); forget a client once its training succeeded")
        }
        var resolved = spec
        resolved.architecture = job.spec.architecture
        resolved.weightsSHA256 = outputs.weightsSHA256
        resolved.testSHA256 = job.spec.testSHA256
        resolved.referenceSHA256 = ledger
        resolved.seed = job.spec.seed
        resolved.weightsName = "\(source).safetensors"
        resolved.forget = "client \(client)"
        for (key, value) in job.spec.params where FederatedSettings.declarations.contains(where: { $0.key == key }) {
            resolved.params["training.\(key)"] = value
        }
        return resolved
    }

    func check(_ spec: JobSpec) throws {
        switch spec.kind {
        case nil: try checkUnlearning(spec)
        case JobKind.federated?:
            do {
                guard spec.method == "fedavg" else {
                    throw ProtocolError(.badRequest, "federated jobs train with fedavg")
                }
                _ = try FederatedSettings(spec.params)
            } catch let error as ProtocolError {
                throw error
            } catch {
                throw ProtocolError(.badRequest, "\(error)")
            }
        case JobKind.forgetClient?:
            do {
                _ = try ForgettingSettings(
                    method: spec.method, params: spec.params.filter { !$0.key.hasPrefix("training.") })
            } catch {
                throw ProtocolError(.badRequest, "\(error)")
            }
        case JobKind.auditReference?:
            return try checkAuditReference(spec)
        case let kind?:
            throw ProtocolError(
                .badRequest, "unknown job kind '\(kind)'; use federated, forget-client or audit-reference")
        }
        if spec.kind != nil, spec.weightsSHA256.isEmpty || spec.testSHA256.isEmpty {
            throw ProtocolError(.badRequest, "a federated job needs initial weights and a test set")
        }
        if let missing = spec.blobs.first(where: { !state.blobs.contains($0) }) {
            throw ProtocolError(.unknownBlob, "blob \(missing) has not been uploaded")
        }
        if let audit = spec.auditSHA256 { try checkAudit(spec, bundle: audit) }
    }

    /// A job's membership-audit references: a bundle that reads, every reference and the audit's data uploaded,
    /// and references trained for the job's original (dataset, architecture, recipe, split), as
    /// `lethe unlearn --references` checks them before any work.
    private func checkAudit(_ spec: JobSpec, bundle sha256: String) throws {
        guard spec.kind == nil else {
            throw ProtocolError(.badRequest, "only unlearning jobs are judged by a membership audit")
        }
        do {
            let bundle = try AuditBundle.decode(try state.blobs.data(sha256))
            // What each blob is, for the refusal (hashes may repeat: never a dictionary literal of hostile keys).
            let files = Dictionary(
                [(bundle.dataset.sha256, "the training set"), (bundle.testSha256, "the test set")]
                    + bundle.manifest.entries.map { ($0.sha256, $0.file) }
            ) { first, _ in first }
            if let missing = bundle.blobs.first(where: { !state.blobs.contains($0) }) {
                throw ProtocolError(
                    .unknownBlob,
                    "\(files[missing] ?? "blob") of the audit references \(bundle.references) (sha256 \(missing)) has not been uploaded"
                )
            }
            let scenario = try JSONDecoder().decode(
                ScenarioBundle.self, from: try state.blobs.data(spec.scenarioSHA256))
            try bundle.check(
                model: try ModelSpec.build(spec.architecture, seed: 0), scenario: scenario, what: spec.weightsName)
        } catch let error as ProtocolError {
            throw error
        } catch {
            throw ProtocolError(.badRequest, "\(error)")
        }
    }

    private func checkUnlearning(_ spec: JobSpec) throws {
        guard let method = UnlearningMethods.named(spec.method) else {
            throw ProtocolError(
                .badRequest,
                "unknown method '\(spec.method)'; choose one of \(UnlearningMethods.all.map(\.name).joined(separator: ", "))"
            )
        }
        do {
            try MethodParameters(method.allParameters, overrides: spec.params).checkShards(spec.shards, recipe: nil)
        } catch {
            throw ProtocolError(.badRequest, "\(error)")
        }
        if spec.trainSHA256.isEmpty || spec.scenarioSHA256.isEmpty || spec.weightsSHA256.isEmpty {
            throw ProtocolError(.badRequest, "an unlearning job needs weights, a training set and a scenario")
        }
    }

    /// A reference of the membership audit: its training set and a description that reads and can be trained.
    private func checkAuditReference(_ spec: JobSpec) throws {
        guard spec.method == "train" else {
            throw ProtocolError(.badRequest, "an audit reference is trained (method train)")
        }
        guard !spec.trainSHA256.isEmpty, !spec.scenarioSHA256.isEmpty else {
            throw ProtocolError(.badRequest, "an audit reference needs a training set and its description")
        }
        if let missing = spec.blobs.first(where: { !state.blobs.contains($0) }) {
            throw ProtocolError(.unknownBlob, "blob \(missing) has not been uploaded")
        }
        do {
            _ = try ReferenceTraining.decode(try state.blobs.data(spec.scenarioSHA256))
        } catch {
            throw ProtocolError(.badRequest, "\(error)")
        }
    }
}
