import Data
import Foundation
import Jobs
import LetheTesting
import NN
import Tensor
import Testing
import Unlearning

/// What a job is, wherever it runs: a scenario that names impossible samples or a model that cannot take the
/// data is refused as bad input; reports of older versions still read.
struct JobsTests {
    @Test func aBundleNamingSamplesBeyondTheUploadedSetIsRefused() throws {
        let train = labelledDataset(perClass: [Int](repeating: 3, count: 10), seed: 1)
        let json = """
            {"forgetSet": {"selection": {"indices": {"_0": [1]}}, "forget": [1], "retain": [0, 99]},
             "validation": [], "recipe": \(String(decoding: try JSONEncoder().encode(TrainingRecipe()), as: UTF8.self)),
             "split": \(String(decoding: try JSONEncoder().encode(TrainingSplit(validationFraction: 0)), as: UTF8.self)),
             "metadata": {}}
            """
        let bundle = try JSONDecoder().decode(ScenarioBundle.self, from: Data(json.utf8))
        #expect(throws: ScenarioError("the scenario names training samples beyond the 30 uploaded")) {
            try bundle.scenario(model: ModelZoo.fmnistMLP(seed: 1), train: train, test: train)
        }
    }

    /// Runs name their data by the SHA-256 of its blob, hashed as it is encoded: the same digest as the blob's
    /// (cache keys, certificates and coordinator blobs must agree), for class labels and regression targets alike.
    @Test func aDatasetsDigestIsItsBlobsSHA256() throws {
        let classes = labelledDataset(perClass: [3, 2, 4], seed: 2)
        var generator = SeededGenerator(seed: 3)
        let regression = Dataset(
            name: "regression", images: classes.images, labels: classes.labels, classCount: 3,
            targets: Tensor.uniform(shape: [classes.count, 2], in: -1..<1, using: &generator))
        for dataset in [classes, regression] {
            #expect(try DatasetBlob.sha256(dataset) == sha256Hex(try DatasetBlob.encode(dataset)))
        }
        #expect(try DatasetBlob.sha256(classes) != DatasetBlob.sha256(regression))
    }

    @Test func aModelThatCannotTakeTheDataIsRefusedByName() {
        let cifarLike = Dataset(
            name: "cifar-like", images: Tensor(zeros: [4, 3, 32, 32]), labels: [0, 1, 0, 1], classCount: 2)
        #expect(throws: ScenarioError.self) { try checkCompatible(ModelZoo.fmnistMLP(seed: 1), cifarLike) }
    }
}
