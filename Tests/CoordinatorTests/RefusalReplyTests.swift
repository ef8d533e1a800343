import Coordinator
import Foundation
import Jobs
import Testing
import Transport
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
        // A generous timeout: the in-memory coordinator shares the cooperative pool with heavy tests. Before the
        // fix the decoder's refusal never reached the client, which then failed with a timeout, not a refusal.
        let client = ControlClient(transport: controlHub.connect(key: "ada"), timeoutSeconds: 120)
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
}
