import Coordinator
import Data
import Foundation
import Jobs
import Testing
import Transport
import Unlearning
import Wire

/// A job's membership-audit references are checked at submission, before any work: a bundle that does not read,
/// names something that is not a SHA-256, lacks references or blobs, or was prepared for another dataset is
/// refused with its reason, and nothing is queued.
struct AuditBundleRefusalTests {
    @Test func badAuditReferencesAreRefusedAtSubmission() async throws {
        let fixture = try ClusterFixture()
        let (coordinator, state, controlHub) = try fixture.joblessCoordinator()
        defer { coordinator.stop() }
        let client = ControlClient(transport: controlHub.connect(key: "ada"), timeoutSeconds: 300)
        defer { client.close() }

        let train = try await client.upload(DatasetBlob.encode(fixture.train), kind: "dataset")
        let weights = try await client.upload(
            Data(contentsOf: fixture.blobs.url(of: fixture.originalSHA256)), kind: "checkpoint")
        let scenario = Scenario(
            model: fixture.original, metadata: [:], recipe: TrainingRecipe(), split: TrainingSplit(),
            train: fixture.train, test: fixture.train,
            forgetSet: try ForgetSelection.fraction(0.1, seed: 1).resolve(in: fixture.train), validation: [])
        let scenarioSHA256 = try await client.upload(JSONEncoder().encode(ScenarioBundle(scenario)), kind: "scenario")
        let references = [Data("reference 0".utf8), Data("reference 1".utf8)]
        let identity = ReferenceManifest.DatasetIdentity(name: "toy", sha256: train, samples: fixture.train.count)
        func manifest(dataset: ReferenceManifest.DatasetIdentity = identity, entries: [String]) -> ReferenceManifest {
            ReferenceManifest(
                dataset: dataset, architecture: "fmnist-mlp", recipe: TrainingRecipe(), split: TrainingSplit(),
                seed: 1, references: 2,
                entries: entries.enumerated().map {
                    ReferenceManifest.Entry(
                        file: String(format: "reference-%02d.safetensors", $0.offset), sha256: $0.element,
                        trainingSeed: 1, members: 100, membersSha256: String(repeating: "0", count: 64))
                })
        }
        func spec(_ bundle: Data) async throws -> JobSpec {
            var spec = JobSpec(
                method: "finetune", params: [:], architecture: "fmnist-mlp", weightsSHA256: weights,
                trainSHA256: train, testSHA256: train, scenarioSHA256: scenarioSHA256, seed: 1, shards: 1,
                referenceSHA256: nil, weightsName: "original.safetensors", forget: "fraction 0.1")
            spec.auditSHA256 = try await client.upload(bundle, kind: "audit")
            return spec
        }
        func bundle(_ manifest: ReferenceManifest) throws -> Data {
            try AuditBundle(references: "refs", manifest: manifest, dataset: identity, testSha256: train).encoded()
        }
        let hashes = references.map { BlobStore.sha256($0) }
        let other = ReferenceManifest.DatasetIdentity(
            name: "other", sha256: String(repeating: "e", count: 64), samples: fixture.train.count)
        let cases: [(Data, ProtocolError.Code, String)] = [
            (Data("not json".utf8), .badRequest, "the job's audit references do not read"),
            (try bundle(manifest(entries: [hashes[0], "../../state.sqlite"])), .badRequest, "is not a SHA-256"),
            (try bundle(manifest(entries: [hashes[0]])), .badRequest, "refs (only 1 of 2 are trained)"),
            (
                try bundle(manifest(entries: hashes)), .unknownBlob,
                "reference-00.safetensors of the audit references refs (sha256 \(hashes[0])) has not been uploaded"
            ),
            (
                try bundle(manifest(dataset: other, entries: hashes)), .badRequest,
                "the references in refs were trained with another dataset than original.safetensors"
            ),
        ]
        for (index, (data, code, reason)) in cases.enumerated() {
            // The references are uploaded only for the last case, so the one before misses them.
            if index == cases.count - 1 {
                for reference in references { _ = try await client.upload(reference, kind: "checkpoint") }
            }
            do {
                _ = try await client.request(.jobSubmit(try await spec(data)))
                Issue.record("case \(index) was accepted")
            } catch let refusal as ProtocolError {
                #expect(refusal.code == code, "case \(index): \(refusal.message)")
                #expect(refusal.message.contains(reason), "case \(index): \(refusal.message)")
            }
        }
        #expect(try state.jobs().isEmpty)
    }
}
