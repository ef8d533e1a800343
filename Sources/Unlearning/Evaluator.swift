import Data
import NN
import Synchronization
import Tensor

/// A model's predictions on a set of samples.
public struct Evaluation: Sendable, Codable, Equatable {
    public var samples: Int
    /// Fraction correct, in [0, 1].
    public var accuracy: Double
    /// Mean cross-entropy.
    public var loss: Double
    /// Fraction correct per class (nil for a class with no samples).
    public var perClassAccuracy: [Double?]
    /// Samples per class.
    public var perClassSamples: [Int]
}

/// Eval-mode forward passes over a dataset, in batches.
public enum Evaluator {
    /// The batch `lethe eval`, `lethe metrics` and the verification predict with.
    public static let defaultBatchSize = 250

    /// Per-sample predictions: the predicted class, the cross-entropy loss and the logits.
    public struct Predictions: Sendable {
        public var labels: [Int]
        public var predicted: [Int]
        public var losses: [Float]
        public var logits: Tensor

        public init(labels: [Int], predicted: [Int], losses: [Float], logits: Tensor) {
            self.labels = labels
            self.predicted = predicted
            self.losses = losses
            self.logits = logits
        }

        /// The predictions at these positions, in that order.
        public func selecting(_ positions: [Int]) -> Predictions {
            Predictions(
                labels: positions.map { labels[$0] }, predicted: positions.map { predicted[$0] },
                losses: positions.map { losses[$0] }, logits: logits.gather(rows: positions))
        }
    }

    /// The batches run side by side, one per thread with a copy of the model each (a thread computes a batch as
    /// one thread would, so the results are the same bits; two independent batches keep both cores busier than
    /// one batch split between them). A thread that is done takes the next batch not yet taken, so that a core
    /// slowed by other work, or the last, smaller batch, does not leave the other waiting.
    public static func predict(
        _ model: Model, on dataset: Dataset, indices: [Int], batchSize: Int = defaultBatchSize,
        progress: ProgressHandler? = nil
    ) -> Predictions {
        let batches = stride(from: 0, to: indices.count, by: batchSize).map {
            Array(indices[$0..<min($0 + batchSize, indices.count)])
        }
        let workers = max(1, min(Parallel.maxThreads, batches.count))
        let models = [model] + (1..<workers).map { _ in model.copy() }
        let results = Mutex([(logits: Tensor, losses: [Float])?](repeating: nil, count: batches.count))
        let completed = Mutex(0)
        let nextBatch = Atomic(0)
        Parallel.eachWorker(workers) { worker in
            while true {
                let step = nextBatch.add(1, ordering: .relaxed).oldValue
                guard step < batches.count else { return }
                let batch = dataset.batch(indices: batches[step])
                let output = models[worker].forward(batch.images, mode: .inference)
                let losses = crossEntropy(logits: output, labels: batch.labels, reduction: .sum).perSample
                results.withLock { $0[step] = (output, losses) }
                completed.withLock {
                    $0 += 1
                    progress?(PhaseProgress(phase: "evaluate", completed: $0, total: batches.count))
                }
            }
        }
        let batchResults = results.withLock { $0.map { $0! } }
        let logits = batchResults.map(\.logits)
        return Predictions(
            labels: indices.map { dataset.labels[$0] }, predicted: logits.flatMap { $0.argmaxRows() },
            losses: batchResults.flatMap(\.losses),
            logits: logits.isEmpty ? Tensor(zeros: [0, model.classCount]) : Tensor.concatenate(logits))
    }

    public static func evaluate(
        _ model: Model, on dataset: Dataset, indices: [Int]? = nil, batchSize: Int = defaultBatchSize,
        progress: ProgressHandler? = nil
    ) -> Evaluation {
        let predictions = predict(
            model, on: dataset, indices: indices ?? Array(0..<dataset.count), batchSize: batchSize, progress: progress)
        return summarize(predictions, classCount: dataset.classCount)
    }

    /// Correct predictions and samples, per class.
    public static func perClassCounts(_ predictions: Predictions, classCount: Int) -> (correct: [Int], totals: [Int]) {
        var correct = [Int](repeating: 0, count: classCount)
        var totals = [Int](repeating: 0, count: classCount)
        for (label, guess) in zip(predictions.labels, predictions.predicted) {
            totals[label] += 1
            if label == guess { correct[label] += 1 }
        }
        return (correct, totals)
    }

    public static func summarize(_ predictions: Predictions, classCount: Int) -> Evaluation {
        let (correct, totals) = perClassCounts(predictions, classCount: classCount)
        let samples = predictions.labels.count
        return Evaluation(
            samples: samples,
            accuracy: samples == 0 ? 0 : Double(correct.reduce(0, +)) / Double(samples),
            loss: samples == 0 ? 0 : predictions.losses.reduce(0.0) { $0 + Double($1) } / Double(samples),
            perClassAccuracy: zip(correct, totals).map { $1 == 0 ? nil : Double($0) / Double($1) },
            perClassSamples: totals)
    }
}
