import Checkpoint
import Data
import Foundation
import NN
import Tensor
import Unlearning

/// Where an original's predictions on training samples and every test sample are kept between runs (issue 15): they
/// depend only on the model, the data as the run sees it (holdout included) and the BLAS kernels, and a sample's
/// not on its batch, so each run adds the samples it predicted and a later request on the same original predicts
/// only those no run did before.
public protocol PredictionStore: Sendable {
    func load(key: String, train: Dataset, test: Dataset) -> ModelPredictions?
    /// Keeps `predictions` with what the entry holds by then (another run may have added samples since this one
    /// read it).
    func save(_ predictions: ModelPredictions, key: String, train: Dataset, test: Dataset)
}

/// A cache shelf of `<key>.safetensors` files (logits, losses and predicted classes of both sets, and the training
/// indices held when not every one; labels come from the data the key names). Unreadable or mismatched entries are
/// misses.
public struct DirectoryPredictionStore: PredictionStore {
    public let shelf: CacheShelf

    public init(shelf: CacheShelf) { self.shelf = shelf }

    public func load(key: String, train: Dataset, test: Dataset) -> ModelPredictions? {
        guard let data = shelf.read(key: key), let file = try? SafetensorsFile(data: data) else { return nil }
        func predictions(_ set: String, _ dataset: Dataset, at indices: [Int]?) -> Evaluator.Predictions? {
            let count = indices?.count ?? dataset.count
            guard let logits = file.entry(named: "\(set).logits")?.tensor, logits.rank == 2, logits.shape[0] == count,
                let losses = file.entry(named: "\(set).losses")?.tensor.scalars, losses.count == count,
                let predicted = file.entry(named: "\(set).predicted")?.tensor.scalars, predicted.count == count
            else { return nil }
            return Evaluator.Predictions(
                labels: indices.map { $0.map { dataset.labels[$0] } } ?? dataset.labels,
                predicted: predicted.map { Int($0) }, losses: losses, logits: logits)
        }
        var trainIndices: [Int]?
        if let held = file.entry(named: "train.indices")?.tensor.scalars {
            let indices = held.map { Int($0) }
            guard zip(indices, indices.dropFirst()).allSatisfy({ $0 < $1 }), indices.first.map({ $0 >= 0 }) ?? true,
                indices.last.map({ $0 < train.count }) ?? true
            else { return nil }
            trainIndices = indices
        }
        guard let trainPredictions = predictions("train", train, at: trainIndices),
            let testPredictions = predictions("test", test, at: nil)
        else { return nil }
        return ModelPredictions(train: trainPredictions, trainIndices: trainIndices, test: testPredictions)
    }

    /// Under the key's lock, reads the entry again and adds what it holds that `predictions` lack, then writes the
    /// whole: runs on the same original that overlap (each read the entry before the other wrote) lose none of each
    /// other's samples. Predictions of one sample are the same bits whichever run made them, so they merge.
    public func save(_ predictions: ModelPredictions, key: String, train: Dataset, test: Dataset) {
        shelf.exclusively(key: key) {
            var kept = predictions
            if let current = load(key: key, train: train, test: test) {
                let extra = Set(current.heldTrainIndices).subtracting(predictions.heldTrainIndices).sorted()
                if !extra.isEmpty { kept = kept.adding(current.train(at: extra), at: extra, trainCount: train.count) }
            }
            write(kept, key: key)
        }
    }

    /// Writes the predictions (with their training indices when they do not cover every sample; not for training
    /// sets of 2²⁴ samples or more, whose indices a float tensor cannot hold exactly).
    private func write(_ predictions: ModelPredictions, key: String) {
        var entries: [SafetensorsFile.Entry] = []
        if let indices = predictions.trainIndices {
            guard (indices.last ?? 0) < 1 << 24 else { return }
            entries.append(
                .init(
                    name: "train.indices", tensor: Tensor(shape: [indices.count], scalars: indices.map(Float.init)),
                    dtype: .i32))
        }
        for (set, values) in [("train", predictions.train), ("test", predictions.test)] {
            entries += [
                .init(name: "\(set).logits", tensor: values.logits),
                .init(name: "\(set).losses", tensor: Tensor(shape: [values.losses.count], scalars: values.losses)),
                .init(
                    name: "\(set).predicted",
                    tensor: Tensor(shape: [values.predicted.count], scalars: values.predicted.map(Float.init))),
            ]
        }
        if let data = try? SafetensorsFile(entries: entries).serialized() { shelf.write(data, key: key) }
    }

    /// Bump when what `Verifier.predictions` computes changes, so that older entries are not reused.
    public static let revision = 2

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
