import Checkpoint
import Data
import Federated
import Foundation
import Jobs
import NN
import Tensor
import Transport
import Wire

/// What the coordinator runs for federated jobs: FedAvg training with the clients, and forgetting a client.
enum FederatedJobs {
    static func train(_ job: StoredJob, _ environment: Coordinator.JobEnvironment) async throws -> JobOutputs {
        let spec = job.spec
        let blobs = environment.blobs
        let settings = try FederatedSettings(spec.params)
        let test = try DatasetBlob.decode(try blobs.data(spec.testSHA256))
        let initial = try ModelSpec.build(spec.architecture, seed: 0)
        let recorded = try ModelCheckpoint.read(blobs.url(of: spec.weightsSHA256), into: initial).metadata
        var rounds = FederatedRounds(
            job: job.id, architecture: spec.architecture, seed: spec.seed, settings: settings, test: test,
            roster: environment.clients)
        rounds.log = environment.log
        rounds.progress = environment.progress
        let start =
            environment.federation
            ?? FederationState(
                names: initial.stateDict().map(\.name),
                initial: Dictionary(uniqueKeysWithValues: initial.stateDict().map { ($0.name, $0.tensor) }))
        let (persist, total, engine) = (environment.persistFederation, settings.rounds, rounds)
        let state = try await DedicatedThread.run(name: "lethe-\(job.id)") {
            var state = start
            try engine.run(&state, rounds: total, persist: persist)
            return state
        }
        let ledgerSHA256 = try blobs.put(try state.encoded())
        let weightsSHA256 = try blobs.put(
            try checkpoint(
                state.globalStateDict,
                metadata: preprocessingRecord(recorded).merging(["lethe.job": job.id, "lethe.kind": "fedavg"]) { $1 }))
        let verifier = FederatedVerifier(
            job: job.id, architecture: spec.architecture, test: test, roster: environment.clients,
            backdoor: settings.backdoor, seed: spec.seed)
        let weights = state.globalStateDict
        let final = try await DedicatedThread.run(name: "lethe-\(job.id)-verify") {
            try verifier.verify(weights, forgotten: nil, remaining: state.members.keys.sorted())
        }
        let report = FederatedTrainingReport(
            job: job.id, model: spec.architecture, seed: spec.seed, params: spec.params,
            clients: state.members.values.sorted { $0.identity < $1.identity }.map(ClientSummary.init),
            rounds: state.history, final: final, trainingSeconds: state.history.reduce(0) { $0 + $1.seconds },
            ledgerBytes: state.ledgerBytes, ledgerSha256: ledgerSHA256, outputSha256: weightsSHA256)
        return JobOutputs(
            id: job.id, weightsSHA256: weightsSHA256, reportSHA256: try blobs.put(JSONEncoder.sorted.encode(report)),
            htmlSHA256: try blobs.put(Data(report.html.utf8)), ledgerSHA256: ledgerSHA256)
    }

    static func forget(_ job: StoredJob, _ environment: Coordinator.JobEnvironment) async throws -> JobOutputs {
        let spec = job.spec
        let blobs = environment.blobs
        guard let ledger = spec.referenceSHA256, let reference = spec.client, let sourceJob = spec.sourceJob else {
            throw ProtocolError(.badRequest, "a forget-client job needs its source job, client and ledgers")
        }
        let prefix = "training."
        let training = try FederatedSettings(
            Dictionary(
                uniqueKeysWithValues: spec.params.filter { $0.key.hasPrefix(prefix) }.map {
                    (String($0.key.dropFirst(prefix.count)), $0.value)
                }))
        let settings = try ForgettingSettings(
            method: spec.method, params: spec.params.filter { !$0.key.hasPrefix(prefix) })
        let source = try FederationState(decoding: try blobs.data(ledger))
        let member = try ClientForgetting.member(reference, in: source)
        let test = try DatasetBlob.decode(try blobs.data(spec.testSHA256))
        var rounds = FederatedRounds(
            job: job.id, architecture: spec.architecture, seed: spec.seed, settings: training, test: test,
            roster: environment.clients)
        rounds.settings.clients = max(1, source.members.count - 1)
        rounds.log = environment.log
        rounds.progress = environment.progress
        let engine = rounds
        let verifier = FederatedVerifier(
            job: job.id, architecture: spec.architecture, test: test, roster: environment.clients,
            backdoor: settings.backdoor ?? training.backdoor, seed: spec.seed)
        let remaining = source.members.keys.filter { $0 != member.identity }.sorted()
        let forgetting = ClientForgetting(settings: settings, source: source, training: training, rounds: engine)
        let (resume, persist) = (environment.federation, environment.persistFederation)
        let (before, outcome, after) = try await DedicatedThread.run(name: "lethe-\(job.id)") {
            let before = try verifier.verify(source.globalStateDict, forgotten: member.identity, remaining: remaining)
            let outcome = try forgetting.run(forgetting: member, resume: resume, persist: persist)
            let after = try verifier.verify(outcome.weights, forgotten: member.identity, remaining: remaining)
            return (before, Handoff(outcome), after)
        }
        let weightsSHA256 = try blobs.put(
            try checkpoint(
                outcome.value.weights,
                metadata: preprocessingRecord(try SafetensorsFile(data: blobs.data(spec.weightsSHA256)).metadata)
                    .merging(["lethe.job": job.id, "lethe.kind": "forget-client", "lethe.client": member.identity]) {
                        $1
                    }))
        let trainingSeconds = source.history.reduce(0) { $0 + $1.seconds }
        let elapsed = outcome.value.seconds + outcome.value.repairSeconds
        var report = ClientForgettingReport(
            job: job.id, sourceJob: sourceJob, method: spec.method, params: spec.params, client: ClientSummary(member),
            before: before, after: after, seconds: outcome.value.seconds, repairSeconds: outcome.value.repairSeconds,
            trainingSeconds: trainingSeconds, speedUp: trainingSeconds / max(elapsed, 1e-9),
            dampenedParameters: outcome.value.dampened, dampenableParameters: outcome.value.dampenable,
            ledgerBytes: source.ledgerBytes, rounds: outcome.value.rounds, inputSha256: spec.weightsSHA256,
            outputSha256: weightsSHA256)
        let certificate = try environment.signingKey.map { key in
            let certificate = try UnlearningCertificate(
                body: UnlearningCertificate.body(
                    forgetting: report, ledgerSha256: ledger, model: spec.architecture, seed: spec.seed,
                    kernels: BLAS.kernelIdentity, version: LetheVersion.current,
                    job: (id: job.id, requester: job.submittedBy))
            ).signed(with: key)
            report.certificate = CertificateReference(
                file: "\(job.id).certificate.json", digest: certificate.digest)
            return try blobs.put(certificate.fileBytes)
        }
        return JobOutputs(
            id: job.id, weightsSHA256: weightsSHA256, reportSHA256: try blobs.put(JSONEncoder.sorted.encode(report)),
            htmlSHA256: try blobs.put(Data(report.html.utf8)), certificateSHA256: certificate)
    }

    /// What a federated job's checkpoint carries over from the one it started from: the clients' preprocessing, so
    /// that the federated model is evaluated and unlearned with the inputs it was trained on.
    private static func preprocessingRecord(_ metadata: [String: String]) -> [String: String] {
        metadata.filter { $0.key == Preprocessing.metadataKey }
    }

    private static func checkpoint(_ weights: [(name: String, tensor: Tensor)], metadata: [String: String]) throws
        -> Data
    {
        try SafetensorsFile(tensors: weights, metadata: metadata).serialized()
    }
}
