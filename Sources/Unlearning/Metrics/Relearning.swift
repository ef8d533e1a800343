import Data
import NN
import Tensor

/// Relearn time (Chundawat et al.'s anamnesis index): how many SGD steps on forget samples a model needs to
/// get back to the original's accuracy on the forget set (a regression model: to the original's L1 error on it).
/// A model that only hid the information relearns it much faster than one that never learned it.
public struct Relearning: Sendable {
    /// What counts as relearned: a classifier's accuracy on the probe rising to the original's, a regression
    /// model's L1 error on it falling to the original's (each within `tolerance`).
    public enum Goal: Sendable, Equatable {
        case accuracy(Double)
        case error(Double)
    }

    public var batchSize = 32
    public var learningRate: Float = 0.01
    public var maximumSteps = 100
    /// Samples of the forget set whose accuracy is checked after each step.
    public var probeSize = 500
    /// Counted as relearned at accuracy `target · (1 − tolerance)`, or error `target · (1 + tolerance)`.
    public var tolerance = 0.05
    public var seed: UInt64

    public init(seed: UInt64) { self.seed = seed }

    /// Steps until a copy of `model`, trained on `forget` with the task's loss, reaches `goal` on it (nil: not
    /// within `maximumSteps`). `model` itself is not changed.
    public func steps(_ model: Model, on train: Dataset, forget: [Int], goal: Goal) -> Int? {
        var generator = SeededGenerator(seed: seed, stream: "relearn")
        let order = generator.permutation(forget.count).map { forget[$0] }
        let probe = Array(order.prefix(probeSize))
        let student = model.copy()
        let optimizer = SGD(learningRate: learningRate, momentum: 0.9)
        let executor = LocalExecutor(dataset: train, shards: 1, original: model) { _ in model }
        let state = PlanState(student: student)
        for step in 0..<maximumSteps {
            let start = (step * batchSize) % order.count
            let batch = (0..<min(batchSize, order.count)).map { order[(start + $0) % order.count] }
            let gradientStep = GradientStep(
                parts: [
                    BatchPart(
                        inputs: .samples(batch), labels: batch.map { train.labels[$0] },
                        losses: [TaskLoss.of(train, weight: 1)])
                ],
                seed: seed &+ UInt64(step))
            _ = try? executor.gradient(gradientStep, state: state)
            optimizer.update(model: student)
            if reached(goal, student, on: train, probe: probe) { return step + 1 }
        }
        return nil
    }

    private func reached(_ goal: Goal, _ model: Model, on train: Dataset, probe: [Int]) -> Bool {
        switch goal {
        case .accuracy(let target):
            Evaluator.evaluate(model, on: train, indices: probe).accuracy >= target * (1 - tolerance)
        case .error(let target):
            RegressionMetrics.figures(model, on: train, indices: probe).l1 <= target * (1 + tolerance)
        }
    }
}

/// The anamnesis index of an unlearned model against a reference (e.g. retrained) model.
public struct Anamnesis: Sendable, Codable, Equatable {
    public var steps: Int?
    public var referenceSteps: Int?
    public var maximumSteps: Int
    /// steps / referenceSteps (a model that never relearned counts as `maximumSteps`); ≈ 1 is ideal.
    public var index: Double

    public init(steps: Int?, referenceSteps: Int?, maximumSteps: Int) {
        self.steps = steps
        self.referenceSteps = referenceSteps
        self.maximumSteps = maximumSteps
        index = RelearnTime.anamnesisIndex(unlearned: steps, reference: referenceSteps, maximum: maximumSteps)
    }
}
