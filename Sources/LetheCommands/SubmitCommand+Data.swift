import Data
import Foundation
import Jobs
import NN
import Transport

/// A job's datasets as blobs, loaded and encoded once: as the scenario resolved them (what the job computes on)
/// and as the user loaded them, before any holdout or relabelling (what its certificate and audit name, and what
/// a verifier replays from). Usually they are the same bytes.
struct JobData {
    let train: Data
    let test: Data
    let loadedTrain: Data
    let loadedTest: Data
    let loadedName: String
    let loadedSamples: Int

    init(_ scenario: Scenario, dataOptions: DataOptions) throws {
        train = try DatasetBlob.encode(scenario.train)
        test = try DatasetBlob.encode(scenario.test)
        let loaded = try scenario.load(.train, from: dataOptions)
        loadedTrain = try DatasetBlob.encode(loaded)
        loadedTest = try DatasetBlob.encode(try scenario.load(.test, from: dataOptions))
        (loadedName, loadedSamples) = (loaded.name, loaded.count)
    }

    /// The training set as loaded, as reference manifests name it.
    var loadedIdentity: ReferenceManifest.DatasetIdentity {
        ReferenceManifest.DatasetIdentity(name: loadedName, sha256: sha256Hex(loadedTrain), samples: loadedSamples)
    }

    /// Uploads each distinct blob once.
    func upload(with client: ControlClient) async throws -> UploadedData {
        let trainSHA256 = try await client.upload(train, kind: "dataset")
        let testSHA256 = try await client.upload(test, kind: "dataset")
        let loadedTrainSHA256 =
            loadedTrain == train ? trainSHA256 : try await client.upload(loadedTrain, kind: "dataset")
        return UploadedData(
            train: trainSHA256, test: testSHA256, loadedTrain: loadedTrainSHA256,
            loadedTest: loadedTest == test ? testSHA256 : try await client.upload(loadedTest, kind: "dataset"),
            loadedIdentity: ReferenceManifest.DatasetIdentity(
                name: loadedName, sha256: loadedTrainSHA256, samples: loadedSamples))
    }
}

/// A job's uploaded datasets: what the job computes on, and the data as loaded.
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
