import NN
import Tensor

/// A model's predictions on the training samples at `trainIndices` (nil: every one) and every test sample, in
/// index order. A sample's prediction does not depend on the batch it was made in, so predictions made at
/// different times (an earlier run's, kept in a cache, and this one's) combine into the bits one pass would give.
public struct ModelPredictions: Sendable {
    public let train: Evaluator.Predictions
    /// The training indices `train` holds, ascending; nil when it holds every training sample.
    public let trainIndices: [Int]?
    public let test: Evaluator.Predictions

    public init(train: Evaluator.Predictions, trainIndices: [Int]? = nil, test: Evaluator.Predictions) {
        self.train = train
        self.trainIndices = trainIndices
        self.test = test
    }

    /// The training indices held, ascending.
    public var heldTrainIndices: [Int] { trainIndices ?? Array(0..<train.labels.count) }

    /// The predictions on the training samples at `indices`, in that order; nil when one of them was not predicted.
    public func heldTrain(at indices: [Int]) -> Evaluator.Predictions? {
        guard let trainIndices else {
            return indices.allSatisfy { (0..<train.labels.count).contains($0) } ? train.selecting(indices) : nil
        }
        // Each predicted sample's position among the predictions (−1: not predicted), by sample index.
        var positions = [Int](repeating: -1, count: (trainIndices.max() ?? -1) + 1)
        for (position, index) in trainIndices.enumerated() { positions[index] = position }
        var selected: [Int] = []
        selected.reserveCapacity(indices.count)
        for index in indices {
            guard index >= 0 && index < positions.count && positions[index] >= 0 else { return nil }
            selected.append(positions[index])
        }
        return train.selecting(selected)
    }

    /// The predictions on the training samples at `indices` (each must be among those predicted).
    public func train(at indices: [Int]) -> Evaluator.Predictions {
        guard let held = heldTrain(at: indices) else {
            preconditionFailure("a training sample asked for was not predicted")
        }
        return held
    }

    /// These predictions and `more` (on the training samples at `indices`, none of them held here) as one, in
    /// index order; `trainCount` training samples in all (the result holds every one when they are all there).
    public func adding(_ more: Evaluator.Predictions, at indices: [Int], trainCount: Int) -> ModelPredictions {
        let held = heldTrainIndices
        let combined = held + indices
        let order = combined.indices.sorted { combined[$0] < combined[$1] }
        let merged = Evaluator.Predictions(
            labels: train.labels + more.labels, predicted: train.predicted + more.predicted,
            losses: train.losses + more.losses, logits: Tensor.concatenate([train.logits, more.logits])
        ).selecting(order)
        let sortedIndices = order.map { combined[$0] }
        return ModelPredictions(
            train: merged, trainIndices: sortedIndices.count == trainCount ? nil : sortedIndices, test: test)
    }
}
