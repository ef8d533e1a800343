import Data
import NN

/// The loss a model is trained with on its dataset: cross-entropy on the labels of a classification dataset, the
/// L1 error to the targets of a regression one (the Blindspot paper's training loss).
public enum TaskLoss {
    public static func of(_ dataset: Dataset, weight: Float) -> LossComponent {
        dataset.isRegression ? .absoluteError(target: .dataset, weight: weight) : .crossEntropy(weight: weight)
    }
}

extension UnlearningProblem {
    /// `TaskLoss` of the training set with `weight` (negative to ascend).
    public func taskLoss(weight: Float) -> LossComponent { TaskLoss.of(train, weight: weight) }
}
