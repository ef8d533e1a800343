import Checkpoint
import Data
import Foundation
import NN
import Tensor
import Unlearning

/// Where an original's predictions on every training and test sample are kept between runs (issue 15): they
/// depend only on the model, the data as the run sees it (holdout included) and the BLAS kernels, and every
/// "before" figure of any forget set derives from them, so a later request on the same original skips its pass
/// over the data.
public protocol PredictionStore: Sendable {
    func load(key: String, train: Dataset, test: Dataset) -> ModelPredictions?
    func save(_ predictions: ModelPredictions, key: String)
}

/// A cache shelf of `<key>.safetensors` files (logits, losses and predicted classes of both sets; labels come from
/// the data the key names). Unreadable or mismatched entries are misses.
public struct DirectoryPredictionStore: PredictionStore {
    public let shelf: CacheShelf

    public init(shelf: CacheShelf) { self.shelf = shelf }

    public func load(key: String, train: Dataset, test: Dataset) -> ModelPredictions? {
        guard let data = shelf.read(key: key), let file = try? SafetensorsFile(data: data) else { return nil }
        func predictions(_ set: String, _ dataset: Dataset) -> Evaluator.Predictions? {
            guard let logits = file.entry(named: "\(set).logits")?.tensor, logits.rank == 2,
                logits.shape[0] == dataset.count,
                let losses = file.entry(named: "\(set).losses")?.tensor.scalars, losses.count == dataset.count,
                let predicted = file.entry(named: "\(set).predicted")?.tensor.scalars, predicted.count == dataset.count
            else { return nil }
            return Evaluator.Predictions(
                labels: dataset.labels, predicted: predicted.map { Int($0) }, losses: losses, logits: logits)
        }
        guard let trainPredictions = predictions("train", train), let testPredictions = predictions("test", test)
        else { return nil }
        return ModelPredictions(train: trainPredictions, test: testPredictions)
    }

    /// Saves predictions on every training sample (partial ones are not kept: a later forget set may need any).
    public func save(_ predictions: ModelPredictions, key: String) {
        guard predictions.trainIndices == nil else { return }
        var tensors: [(name: String, tensor: Tensor)] = []
        for (set, values) in [("train", predictions.train), ("test", predictions.test)] {
            tensors += [
                ("\(set).logits", values.logits),
                ("\(set).losses", Tensor(shape: [values.losses.count], scalars: values.losses)),
                (
                    "\(set).predicted",
                    Tensor(shape: [values.predicted.count], scalars: values.predicted.map(Float.init))
                ),
            ]
        }
        if let data = try? SafetensorsFile(tensors: tensors).serialized() { shelf.write(data, key: key) }
    }

    /// Bump when what `Verifier.predictions` computes changes, so that older entries are not reused.
    public static let revision = 1

    /// The key of `modelSha256`'s predictions on the data whose digests these are.
    public static func key(modelSha256: String, architecture: String, trainSha256: String, testSha256: String)
        -> String
    {
        let key = CanonicalJSON.object([
            "revision": .integer(Int64(revision)), "model_sha256": .string(modelSha256),
            "architecture": .string(architecture), "blas": .string(BLAS.kernelIdentity),
            "train": .string(trainSha256), "test": .string(testSha256),
        ])
        return sha256Hex(Data(key.bytes))
    }
}
