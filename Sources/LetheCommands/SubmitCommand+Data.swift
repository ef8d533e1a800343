import Data
import Foundation
import Jobs
import Transport

/// A job's datasets, uploaded once each by hash: as the scenario resolved them (what the job computes on) and as
/// the user loaded them, before any holdout or relabelling (what its certificate and audit name, and what a
/// verifier replays from). Usually they are the same blobs.
struct UploadedData {
    var train: String
    var test: String
    var loadedTrain: String
    var loadedTest: String
    var loadedIdentity: ReferenceManifest.DatasetIdentity

    /// The loaded sets' hashes for the job spec: nil where they are the scenario's own.
    var sourceTrain: String? { loadedTrain == train ? nil : loadedTrain }
    var sourceTest: String? { loadedTest == test ? nil : loadedTest }
}

extension SubmitCommand {
    func upload(_ scenario: Scenario, with client: ControlClient) async throws -> UploadedData {
        let train = try DatasetBlob.encode(scenario.train)
        let test = try DatasetBlob.encode(scenario.test)
        let loadedTrain = try scenario.load(.train, from: request.dataOptions)
        let loadedTrainBlob = try DatasetBlob.encode(loadedTrain)
        let loadedTestBlob = try DatasetBlob.encode(try scenario.load(.test, from: request.dataOptions))
        let trainSHA256 = try await client.upload(train, kind: "dataset")
        let testSHA256 = try await client.upload(test, kind: "dataset")
        let loadedTrainSHA256 =
            loadedTrainBlob == train ? trainSHA256 : try await client.upload(loadedTrainBlob, kind: "dataset")
        return UploadedData(
            train: trainSHA256, test: testSHA256, loadedTrain: loadedTrainSHA256,
            loadedTest: loadedTestBlob == test ? testSHA256 : try await client.upload(loadedTestBlob, kind: "dataset"),
            loadedIdentity: ReferenceManifest.DatasetIdentity(
                name: loadedTrain.name, sha256: loadedTrainSHA256, samples: loadedTrain.count))
    }
}
