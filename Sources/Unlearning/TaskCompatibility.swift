import Data
import NN

/// Why a model and a dataset are for different tasks.
public enum TaskMismatch: Error, Equatable, CustomStringConvertible {
    /// A classification model given a dataset of regression targets.
    case classifierOnRegressionData(model: String, dataset: String)
    /// A regression model given class labels only.
    case regressorOnClassificationData(model: String, dataset: String)
    /// A regression head of `outputs` values for targets of `targets` values.
    case outputCount(model: String, outputs: Int, dataset: String, targets: Int)

    public var description: String {
        switch self {
        case .classifierOnRegressionData(let model, let dataset):
            "\(model) is a classifier, but \(dataset) has regression targets: use a regression model "
                + "(e.g. fmnist-cnn:regression=1)"
        case .regressorOnClassificationData(let model, let dataset):
            "\(model) is a regression model, but \(dataset) has class labels only: use a classifier "
                + "(e.g. fmnist-cnn) or a dataset with regression targets (e.g. fashion-mnist-rotation)"
        case .outputCount(let model, let outputs, let dataset, let targets):
            "\(model) outputs \(outputs) value\(outputs == 1 ? "" : "s"), but \(dataset) has \(targets) target"
                + "\(targets == 1 ? "" : "s") per sample: use \(model.split(separator: ":")[0]):regression=\(targets)"
        }
    }
}

/// Checks a model's head against a dataset's kind: classifiers need class labels, regression models targets of
/// as many values as they output.
public enum TaskCompatibility {
    public static func check(_ model: Model, _ dataset: Dataset) throws(TaskMismatch) {
        switch (model.head, dataset.targets) {
        case (.classification, nil): return
        case (.classification, .some):
            throw .classifierOnRegressionData(model: model.architecture, dataset: dataset.name)
        case (.regression, nil):
            throw .regressorOnClassificationData(model: model.architecture, dataset: dataset.name)
        case (.regression(let outputs), .some(let targets)):
            guard outputs == targets.shape[1] else {
                throw .outputCount(
                    model: model.architecture, outputs: outputs, dataset: dataset.name, targets: targets.shape[1])
            }
        }
    }
}
