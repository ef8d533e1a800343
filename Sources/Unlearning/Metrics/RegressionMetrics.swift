import Data
import NN
import Tensor

/// Errors of a regression model on a set of samples: mean absolute error (L1) and mean squared error, each
/// sample's error the mean over its K outputs.
public struct RegressionFigures: Sendable, Codable, Equatable {
    public var samples: Int
    public var l1: Double
    public var mse: Double

    public init(samples: Int, l1: Double, mse: Double) {
        self.samples = samples
        self.l1 = l1
        self.mse = mse
    }
}

/// A regression model measured on the retain, forget, test (and validation) samples, with the Deep Regression
/// Unlearning paper's membership attack.
public struct RegressionEvaluation: Sendable, Codable, Equatable {
    public var retain: RegressionFigures
    public var forget: RegressionFigures
    public var test: RegressionFigures
    public var validation: RegressionFigures?
    /// The paper's attack: a classifier of the per-sample L1 error fitted on retain samples (members) against as
    /// many test samples (non-members); the fraction of forget samples it calls members (the paper fits an RBF
    /// SVC; on this one feature a fitted logistic threshold decides alike). Near the retrain's value is the goal.
    public var mia: Double

    public init(
        retain: RegressionFigures, forget: RegressionFigures, test: RegressionFigures, validation: RegressionFigures?,
        mia: Double
    ) {
        self.retain = retain
        self.forget = forget
        self.test = test
        self.validation = validation
        self.mia = mia
    }
}

/// Per-sample errors and `RegressionEvaluation`s, in eval mode and fixed batches (the same figures everywhere).
public enum RegressionMetrics {
    /// Per sample of `indices`: the mean absolute and mean squared error over its outputs.
    public static func errors(_ model: Model, on dataset: Dataset, indices: [Int], batchSize: Int = 250) -> (
        absolute: [Float], squared: [Float]
    ) {
        var absolute: [Float] = []
        var squared: [Float] = []
        for start in stride(from: 0, to: indices.count, by: batchSize) {
            let rows = Array(indices[start..<min(start + batchSize, indices.count)])
            let outputs = model.forward(dataset.batch(indices: rows).images, mode: .inference)
            let targets = dataset.targets(of: rows)
            let k = Float(targets.shape[1])
            absolute += meanAbsoluteError(prediction: outputs, target: targets, reduction: .sum).perSample.map {
                $0 / k
            }
            squared += meanSquaredError(prediction: outputs, target: targets, reduction: .sum).perSample.map { $0 / k }
        }
        return (absolute, squared)
    }

    public static func figures(_ model: Model, on dataset: Dataset, indices: [Int]) -> RegressionFigures {
        let (absolute, squared) = errors(model, on: dataset, indices: indices)
        let n = Double(max(indices.count, 1))
        return RegressionFigures(
            samples: indices.count, l1: absolute.reduce(0.0) { $0 + Double($1) } / n,
            mse: squared.reduce(0.0) { $0 + Double($1) } / n)
    }

    /// `model` on `forgetSet`'s retain and forget samples of `train`, on `test` and on the validation samples;
    /// `seed` draws the attack's members.
    public static func evaluate(
        _ model: Model, train: Dataset, test: Dataset, forgetSet: ForgetSet, validation: [Int], seed: UInt64
    ) -> RegressionEvaluation {
        let retain = errors(model, on: train, indices: forgetSet.retain)
        let forget = errors(model, on: train, indices: forgetSet.forget)
        let testErrors = errors(model, on: test, indices: Array(0..<test.count))
        func summary(_ e: (absolute: [Float], squared: [Float])) -> RegressionFigures {
            let n = Double(max(e.absolute.count, 1))
            return RegressionFigures(
                samples: e.absolute.count, l1: e.absolute.reduce(0.0) { $0 + Double($1) } / n,
                mse: e.squared.reduce(0.0) { $0 + Double($1) } / n)
        }
        return RegressionEvaluation(
            retain: summary(retain), forget: summary(forget), test: summary(testErrors),
            validation: validation.isEmpty ? nil : figures(model, on: train, indices: validation),
            mia: membershipAttack(
                members: retain.absolute, nonMembers: testErrors.absolute, probes: forget.absolute, seed: seed))
    }

    /// The fraction of `probes` a logistic classifier of the error, fitted on a seeded sample of `members` as large
    /// as `nonMembers` against `nonMembers`, calls members.
    public static func membershipAttack(members: [Float], nonMembers: [Float], probes: [Float], seed: UInt64)
        -> Double
    {
        guard !members.isEmpty, !nonMembers.isEmpty, !probes.isEmpty else { return 0 }
        var generator = SeededGenerator(seed: seed, stream: "regression-mia")
        let chosen = generator.permutation(members.count).prefix(nonMembers.count).map { members[$0] }
        let features = (chosen + nonMembers).map(Double.init)
        let labels = chosen.map { _ in true } + nonMembers.map { _ in false }
        let attack = LogisticRegression1D(features: features, labels: labels)
        return Double(probes.filter { attack.probability(Double($0)) > 0.5 }.count) / Double(probes.count)
    }
}
