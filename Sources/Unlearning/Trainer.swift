import Data
import Foundation
import NN
import Tensor

/// What one training epoch did.
public struct EpochReport: Sendable, Codable {
    public let epoch: Int
    public let learningRate: Float
    public let meanLoss: Double
    /// The share of training samples classified right during the epoch; nil for a regression model.
    public let trainAccuracy: Double?
    public let seconds: Double
}

/// Trains a model from its initialisation with a recipe: the original model (and, through `Retrain`, the
/// retrain baseline), by the same plan machinery every unlearning method runs on.
public final class Trainer {
    public let model: Model
    public let recipe: TrainingRecipe
    public var progress: ProgressHandler?

    public init(model: Model, recipe: TrainingRecipe) {
        precondition(recipe.problem == nil, recipe.problem ?? "")
        self.model = model
        self.recipe = recipe
    }

    /// The plan `fit` runs: one phase per epoch over `indices` (a coordinator runs the same plan on its workers).
    public func plan(indices: [Int], labels: [Int], loss: LossComponent = .crossEntropy(weight: 1)) -> Plan {
        let recipe = recipe
        return Plan(phases: TrainingPhases.epochs(recipe, indices: indices, labels: labels, loss: loss)) {
            [TrainingPhases.optimizer: TrainingPhases.makeOptimizer(recipe)]
        }
    }

    /// What each epoch did, from the plan's phase logs.
    public func reports(_ logs: [PhaseLog]) -> [EpochReport] {
        let classifies = if case .classification = model.head { true } else { false }
        return logs.enumerated().map { epoch, log in
            EpochReport(
                epoch: epoch, learningRate: recipe.schedule.rate(base: recipe.learningRate, epoch: epoch),
                meanLoss: log.meanLoss,
                trainAccuracy: classifies ? (log.rows == 0 ? 0 : Double(log.correct) / Double(log.rows)) : nil,
                seconds: log.seconds)
        }
    }

    /// Trains on `dataset` restricted to `indices` for `recipe.epochs` epochs.
    public func fit(_ dataset: Dataset, indices: [Int]) throws(DivergenceError) -> [EpochReport] {
        let plan = plan(indices: indices, labels: dataset.labels, loss: TaskLoss.of(dataset, weight: 1))
        let architecture = model.architecture
        let executor = LocalExecutor(dataset: dataset, shards: recipe.shards, original: model) { _ in
            preconditionFailure("training \(architecture) needs no frozen models")
        }
        let runner = PlanRunner(executor: executor, progress: progress)
        let logs: [PhaseLog]
        do {
            logs = try runner.run(plan, state: PlanState(student: model, optimizers: plan.makeOptimizers()))
        } catch let error as DivergenceError {
            throw error
        } catch {
            preconditionFailure("training raised \(error)")
        }
        return reports(logs)
    }
}
