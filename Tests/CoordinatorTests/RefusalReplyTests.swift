import Coordinator
import Foundation
import Jobs
import Testing
import Transport
import Unlearning
import Wire

/// Every refusal reaches the requester at once, with its reason, even when the coordinator's decoder refuses
/// the request before it could read what it asked for.
struct RefusalReplyTests {
    func spec(shards: Int, params: [String: String] = [:]) -> JobSpec {
        let hash = String(repeating: "a", count: 64)
        return JobSpec(
            method: "scrub", params: params, architecture: "fmnist-mlp", weightsSHA256: hash, trainSHA256: hash,
            testSHA256: hash, scenarioSHA256: hash, seed: 1, shards: shards, referenceSHA256: nil, weightsName: "w",
            forget: "classes 0")
    }

    @Test func refusedSubmissionsAreAnsweredWithTheirReasonAtOnce() async throws {
        let fixture = try ClusterFixture()
        let (coordinator, state, controlHub) = try fixture.joblessCoordinator()
        defer { coordinator.stop() }
        // A generous timeout: the in-memory coordinator shares the cooperative pool with heavy tests (a loaded CI
        // machine starved it for over 120 s). Before the fix the decoder's refusal never reached the client, which
        // then failed with a timeout, not a refusal.
        let client = ControlClient(transport: controlHub.connect(key: "ada"), timeoutSeconds: 300)
        defer { client.close() }
        let cases: [(JobSpec, String)] = [
            (spec(shards: 5000), "shards 5000 must be between 1 and 4096"),  // refused by the decoder
            (spec(shards: 2, params: ["lr": "-1"]), "lr must be a number > 0"),
            (spec(shards: 65), "shards must be between 1 and 64"),
        ]
        for (spec, reason) in cases {
            do {
                _ = try await client.request(.jobSubmit(spec))
                Issue.record("\(spec.shards) shards, \(spec.params) was accepted")
            } catch let refusal as ProtocolError {
                #expect(refusal.message.contains(reason), "\(refusal.message)")
            }
        }
        #expect(try state.jobs().isEmpty)
    }

    /// An audit reference whose description cannot be trained is refused at submission, with the reason.
    @Test func untrainableAuditReferencesAreRefused() async throws {
        let fixture = try ClusterFixture()
        let (coordinator, state, controlHub) = try fixture.joblessCoordinator()
        defer { coordinator.stop() }
        let client = ControlClient(transport: controlHub.connect(key: "ada"), timeoutSeconds: 300)
        defer { client.close() }
        let train = try await client.upload(Data("not a dataset".utf8), kind: "dataset")
        func reference(_ training: ReferenceTraining) async throws -> JobSpec {
            var spec = JobSpec(
                method: "train", params: [:], architecture: training.architecture, weightsSHA256: "",
                trainSHA256: train, testSHA256: "",
                scenarioSHA256: try await client.upload(JSONEncoder.sorted.encode(training), kind: "reference"),
                seed: training.seed, shards: 1, referenceSHA256: nil, weightsName: training.file, forget: "reference")
            spec.kind = JobKind.auditReference
            return spec
        }
        let split = TrainingSplit(validationFraction: 0)
        var badRecipe = TrainingRecipe()
        badRecipe.learningRate = -1
        let cases: [(ReferenceTraining, String)] = [
            (
                ReferenceTraining(
                    architecture: "fmnist-mlp", recipe: TrainingRecipe(), split: split, seed: 1, references: 2, index: 2
                ),
                "reference 2 of 2"
            ),
            (
                ReferenceTraining(
                    architecture: "no-such-net", recipe: TrainingRecipe(), split: split, seed: 1, references: 2,
                    index: 0), "unknown architecture 'no-such-net'"
            ),
            (
                ReferenceTraining(
                    architecture: "fmnist-mlp", recipe: badRecipe, split: split, seed: 1, references: 2, index: 0),
                "the reference's recipe"
            ),
        ]
        for (training, reason) in cases {
            do {
                _ = try await client.request(.jobSubmit(try await reference(training)))
                Issue.record("\(training) was accepted")
            } catch let refusal as ProtocolError {
                #expect(refusal.code == .badRequest && refusal.message.contains(reason), "\(refusal.message)")
            }
        }
        #expect(try state.jobs().isEmpty)
    }
}
