import Data
import NN
import Tensor

/// How well a model has forgotten: the numbers `lethe metrics` prints and unlearning reports carry before
/// and after. Accuracies are fractions in [0, 1].
public struct VerificationReport: Sendable, Codable, Equatable {
    public var forgetAccuracy: Double
    public var retainAccuracy: Double
    public var testAccuracy: Double
    /// Class scenarios: test accuracy on the forgotten classes and on the others.
    public var testForgetAccuracy: Double?
    public var testRetainAccuracy: Double?
    /// Accuracy on the validation split (training samples held out from the original's training, never
    /// forgotten or retained): overall, and for class scenarios on the forgotten classes and on the others.
    /// Tune hyperparameters on these, not on the test numbers. Nil without a validation split.
    public var validationAccuracy: Double?
    public var validationForgetAccuracy: Double?
    public var validationRetainAccuracy: Double?
    /// Test accuracy per class (nil for a class without test samples).
    public var perClassAccuracy: [Double?]
    /// Membership inference on per-sample loss: forget samples (members) against test samples of the same
    /// classes (non-members); ≈ 0.5 when the attacker cannot tell them apart.
    public var mia: Double
    /// The same attack on the entropy of the predicted distribution.
    public var miaEntropy: Double
    /// 1 − mean Jensen–Shannon divergence to a randomly initialised model on the forget set.
    public var zrf: Double
    /// With a reference model (e.g. retrained without the forget set): mean L2 distance between softmax
    /// outputs and mean Jensen–Shannon divergence on the forget set.
    public var activationDistance: Double?
    public var jsDivergence: Double?
    /// Confusion scenarios: test samples of class A predicted as B, and of B predicted as A.
    public var confusion: ConfusionCounts?
    public var forgetSamples: Int
    public var retainSamples: Int
    public var testSamples: Int
}

/// Computes `VerificationReport`s for one forget set.
public struct Verifier: Sendable {
    public let train: Dataset
    public let test: Dataset
    public let forgetSet: ForgetSet
    public let seed: UInt64
    /// Indices in `train` of the validation split (may be empty).
    public let validation: [Int]

    public init(train: Dataset, test: Dataset, forgetSet: ForgetSet, seed: UInt64, validation: [Int] = []) {
        self.train = train
        self.test = test
        self.forgetSet = forgetSet
        self.seed = seed
        self.validation = validation
    }

    /// Test indices that play the non-members of the membership attack: test samples of the forgotten
    /// classes, or of every class when forgetting samples rather than classes.
    public var nonMemberIndices: [Int] {
        forgetSet.forgottenClasses.map { test.indices(ofClasses: $0) } ?? Array(0..<test.count)
    }

    /// What verified models are compared with, on the forget set: a random initialisation's logits (for ZRF)
    /// and an optional reference model's. Computed once, it serves every model verified for this forget set.
    public struct Baselines: Sendable {
        public let randomLogits: Tensor
        public let referenceLogits: Tensor?
        /// The reference model's test accuracy per class (for per-class fidelity).
        public let referencePerClassAccuracy: [Double?]?
    }

    /// `randomModel` is the same architecture at a random initialisation; `reference` is optional.
    public func baselines(randomModel: Model, reference: Model? = nil) -> Baselines {
        Baselines(
            randomLogits: Evaluator.predict(randomModel, on: train, indices: forgetSet.forget).logits,
            referenceLogits: reference.map { Evaluator.predict($0, on: train, indices: forgetSet.forget).logits },
            referencePerClassAccuracy: reference.map { reference in
                Evaluator.summarize(
                    Evaluator.predict(reference, on: test, indices: Array(0..<test.count)), classCount: test.classCount
                ).perClassAccuracy
            })
    }

    public func verify(
        _ model: Model, randomModel: Model, reference: Model? = nil, progress: ProgressHandler? = nil
    ) throws(MembershipInferenceError) -> VerificationReport {
        try verify(model, against: baselines(randomModel: randomModel, reference: reference), progress: progress)
    }

    public func verify(
        _ model: Model, against baselines: Baselines, progress: ProgressHandler? = nil
    ) throws(MembershipInferenceError) -> VerificationReport {
        try verify(predictions(of: model, progress: progress), against: baselines)
    }

    /// `model`'s predictions on every training and test sample: one pass over each, from which every figure of
    /// its verification derives. `computedTrain`: the training samples' predictions, made elsewhere (workers).
    public func predictions(
        of model: Model, train computedTrain: Evaluator.Predictions? = nil, progress: ProgressHandler? = nil
    ) -> ModelPredictions {
        ModelPredictions(
            train: computedTrain
                ?? Evaluator.predict(model, on: train, indices: Array(0..<train.count), progress: progress),
            test: Evaluator.predict(model, on: test, indices: Array(0..<test.count), progress: progress))
    }

    /// The verification of the model that made `predictions` (on this verifier's data).
    public func verify(_ predictions: ModelPredictions, against baselines: Baselines) throws(MembershipInferenceError)
        -> VerificationReport
    {
        let forget = predictions.train.selecting(forgetSet.forget)
        let retain = Evaluator.summarize(predictions.train.selecting(forgetSet.retain), classCount: train.classCount)
        let testPredictions = predictions.test
        let testEvaluation = Evaluator.summarize(testPredictions, classCount: test.classCount)
        let nonMembers = testPredictions.selecting(nonMemberIndices)  // test predictions are in test-index order

        var report = VerificationReport(
            forgetAccuracy: Evaluator.summarize(forget, classCount: train.classCount).accuracy,
            retainAccuracy: retain.accuracy, testAccuracy: testEvaluation.accuracy,
            perClassAccuracy: testEvaluation.perClassAccuracy,
            mia: try MembershipInference.attackAccuracy(
                members: MembershipInference.features(.loss, of: forget),
                nonMembers: MembershipInference.features(.loss, of: nonMembers), seed: seed),
            miaEntropy: try MembershipInference.attackAccuracy(
                members: MembershipInference.features(.entropy, of: forget),
                nonMembers: MembershipInference.features(.entropy, of: nonMembers), seed: seed),
            zrf: zrfScore(modelLogits: forget.logits, randomModelLogits: baselines.randomLogits),
            forgetSamples: forgetSet.forget.count, retainSamples: forgetSet.retain.count, testSamples: test.count)
        let validationPredictions = validation.isEmpty ? nil : predictions.train.selecting(validation)
        if let validationPredictions {
            report.validationAccuracy = accuracy(validationPredictions, at: Array(validation.indices))
        }
        if let classes = forgetSet.forgottenClasses {
            let forgotten = Set(classes)
            let split = Dictionary(grouping: test.labels.indices) { forgotten.contains(test.labels[$0]) }
            report.testForgetAccuracy = accuracy(testPredictions, at: split[true] ?? [])
            report.testRetainAccuracy = accuracy(testPredictions, at: split[false] ?? [])
            if let validationPredictions {
                let held = Dictionary(grouping: validation.indices) { forgotten.contains(train.labels[validation[$0]]) }
                report.validationForgetAccuracy = accuracy(validationPredictions, at: held[true] ?? [])
                report.validationRetainAccuracy = accuracy(validationPredictions, at: held[false] ?? [])
            }
        }
        if case .confusion(let classes, _) = forgetSet.selection {
            let (a, b) = (classes[0], classes[1])
            let pairs = zip(testPredictions.labels, testPredictions.predicted)
            report.confusion = ConfusionCounts(
                classes: classes, aPredictedAsB: pairs.filter { $0 == a && $1 == b }.count,
                bPredictedAsA: pairs.filter { $0 == b && $1 == a }.count)
        }
        if let referenceLogits = baselines.referenceLogits {
            report.activationDistance = activationDistance(forget.logits, referenceLogits)
            report.jsDivergence = meanJensenShannon(forget.logits, referenceLogits)
        }
        return report
    }

    private func accuracy(_ predictions: Evaluator.Predictions, at positions: [Int]) -> Double? {
        guard !positions.isEmpty else { return nil }
        let correct = positions.filter { predictions.labels[$0] == predictions.predicted[$0] }.count
        return Double(correct) / Double(positions.count)
    }
}

/// A model's predictions on every training sample and every test sample, in index order.
public struct ModelPredictions: Sendable {
    public let train: Evaluator.Predictions
    public let test: Evaluator.Predictions

    public init(train: Evaluator.Predictions, test: Evaluator.Predictions) {
        self.train = train
        self.test = test
    }
}

/// How often the test set's samples of two classes are mistaken for each other.
public struct ConfusionCounts: Sendable, Codable, Equatable {
    public var classes: [Int]
    public var aPredictedAsB: Int
    public var bPredictedAsA: Int
}
