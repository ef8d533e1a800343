import Data
import Foundation
import NN
import Tensor

/// The model's loss became non-finite or exploded: the run stops instead of returning a broken model.
public struct DivergenceError: Error, CustomStringConvertible {
    public let phase: String
    public let epoch: Int
    public let step: Int
    public let loss: Double

    public var description: String {
        "\(phase) diverged at epoch \(epoch + 1), step \(step + 1): loss \(loss). Lower the learning rate or clip gradients."
    }
}

/// What one training epoch did.
public struct EpochReport: Sendable, Codable {
    public let epoch: Int
    public let learningRate: Float
    public let meanLoss: Double
    public let trainAccuracy: Double
    public let seconds: Double
}

/// Minibatch SGD with cross-entropy over a set of training indices: the original model's training and the
/// retrain baseline.
public final class Trainer {
    public let model: Model
    public let recipe: TrainingRecipe
    public let optimizer: SGD
    public var progress: ProgressHandler?

    public init(model: Model, recipe: TrainingRecipe) {
        precondition(recipe.problem == nil, recipe.problem ?? "")
        self.model = model
        self.recipe = recipe
        optimizer = SGD(
            learningRate: recipe.learningRate, momentum: recipe.momentum, weightDecay: recipe.weightDecay,
            nesterov: recipe.nesterov)
    }

    /// Trains on `dataset` restricted to `indices` for `recipe.epochs` epochs.
    public func fit(_ dataset: Dataset, indices: [Int]) throws(DivergenceError) -> [EpochReport] {
        var reports: [EpochReport] = []
        for epoch in 0..<recipe.epochs {
            let start = Date()
            optimizer.learningRate = recipe.schedule.rate(base: recipe.learningRate, epoch: epoch)
            let batches = BatchSchedule.batches(
                indices: indices, batchSize: recipe.batchSize, seed: recipe.seed, epoch: epoch, shuffle: true,
                dropLast: false
            ).filter { $0.count >= recipe.shards }
            var (lossSum, correct, seen) = (0.0, 0, 0)
            let phase = "train epoch \(epoch + 1)/\(recipe.epochs)"
            for (step, batchIndices) in batches.enumerated() {
                let batch = dataset.batch(indices: batchIndices)
                let seed = recipe.seed &* 1_000_003 &+ UInt64(epoch * batches.count + step)
                let loss = ShardedStep.accumulate(
                    model: model, images: batch.images, labels: batch.labels, shards: recipe.shards,
                    mode: .train(seed: seed)
                ) { logits, labels, _ in
                    correct += zip(logits.argmaxRows(), labels).filter { $0 == $1 }.count
                    return crossEntropy(
                        logits: logits, labels: labels, labelSmoothing: recipe.labelSmoothing, reduction: .sum)
                }
                guard loss.isFinite, loss < 1e4 else {
                    throw DivergenceError(phase: "training", epoch: epoch, step: step, loss: loss)
                }
                optimizer.update(model: model)
                lossSum += loss * Double(batchIndices.count)
                seen += batchIndices.count
                progress?(PhaseProgress(phase: phase, completed: step + 1, total: batches.count, loss: loss))
            }
            reports.append(
                EpochReport(
                    epoch: epoch, learningRate: optimizer.learningRate, meanLoss: lossSum / Double(max(seen, 1)),
                    trainAccuracy: Double(correct) / Double(max(seen, 1)), seconds: Date().timeIntervalSince(start)))
        }
        return reports
    }
}
