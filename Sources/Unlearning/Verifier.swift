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
    /// Validation accuracy per class (nil for a class without validation samples; nil without a validation
    /// split): per-class figures to tune on without looking at the test set.
    public var validationPerClassAccuracy: [Double?]?
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
    /// Retained samples the retain accuracy was measured on: all of them, or a sample (`verify-retain`).
    public var retainSamples: Int
    public var testSamples: Int
    /// When the retain accuracy was measured on a sample: how many samples are retained in all, and half the
    /// width of the accuracy's 95% interval. Nil when every retained sample was predicted.
    public var retainPopulation: Int?
    public var retainMargin: Double?
}

extension VerificationReport {
    /// How the retain accuracy was measured, when on a sample: "measured on 10000 of 48600 retained samples
    /// (seeded sample; 95% margin ±0.5 points)". Nil when every retained sample was predicted.
    public var retainSampleSummary: String? {
        guard let retainPopulation else { return nil }
        return String(
            format: "retain accuracy measured on %d of %d retained samples (seeded sample; 95%% margin ±%.1f points)",
            retainSamples, retainPopulation, 100 * (retainMargin ?? 0))
    }
}

/// Computes `VerificationReport`s for one forget set.
public struct Verifier: Sendable {
    public let train: Dataset
    public let test: Dataset
    public let forgetSet: ForgetSet
    public let seed: UInt64
    /// Indices in `train` of the validation split (may be empty).
    public let validation: [Int]
    /// The retained samples the retain accuracy is measured on.
    public let retainMeasurement: RetainMeasurement

    /// `retainSample`: measure the retain accuracy on a seeded sample of this many retained samples (0: all).
    public init(
        train: Dataset, test: Dataset, forgetSet: ForgetSet, seed: UInt64, validation: [Int] = [],
        retainSample: Int = 0
    ) {
        self.train = train
        self.test = test
        self.forgetSet = forgetSet
        self.seed = seed
        self.validation = validation
        retainMeasurement = RetainMeasurement(retain: forgetSet.retain, sampleSize: retainSample, seed: seed)
    }

    /// The training samples a verification predicts, ascending: every one, unless the retain accuracy is
    /// measured on a sample; then the forget set, the validation split and the sampled retained samples.
    public var measuredTrainIndices: [Int] {
        guard retainMeasurement.isSample else { return Array(0..<train.count) }
        return IndexMask(forgetSet.forget + validation + retainMeasurement.indices).sorted
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

        public init(randomLogits: Tensor, referenceLogits: Tensor?, referencePerClassAccuracy: [Double?]?) {
            self.randomLogits = randomLogits
            self.referenceLogits = referenceLogits
            self.referencePerClassAccuracy = referencePerClassAccuracy
        }
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

    /// `model`'s predictions on the measured training samples (`trainIndices`, by default
    /// `measuredTrainIndices`) and every test sample: one pass over each, from which every figure of its
    /// verification derives. `computedTrain`: those training samples' predictions, made elsewhere (workers).
    public func predictions(
        of model: Model, trainIndices: [Int]? = nil, train computedTrain: Evaluator.Predictions? = nil,
        progress: ProgressHandler? = nil
    ) -> ModelPredictions {
        let trainIndices = trainIndices ?? measuredTrainIndices
        return ModelPredictions(
            train: computedTrain ?? Evaluator.predict(model, on: train, indices: trainIndices, progress: progress),
            trainIndices: trainIndices.count == train.count ? nil : trainIndices,
            test: Evaluator.predict(model, on: test, indices: Array(0..<test.count), progress: progress))
    }

    /// The verification of the model that made `predictions` (on this verifier's data).
    public func verify(_ predictions: ModelPredictions, against baselines: Baselines) throws(MembershipInferenceError)
        -> VerificationReport
    {
        let forget = predictions.train(at: forgetSet.forget)
        let retain = Evaluator.summarize(
            predictions.train(at: retainMeasurement.indices), classCount: train.classCount)
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
            forgetSamples: forgetSet.forget.count, retainSamples: retainMeasurement.indices.count,
            testSamples: test.count)
        if retainMeasurement.isSample {
            report.retainPopulation = retainMeasurement.population
            report.retainMargin = retainMeasurement.margin(accuracy: retain.accuracy)
        }
        let validationPredictions = validation.isEmpty ? nil : predictions.train(at: validation)
        if let validationPredictions {
            report.validationAccuracy = accuracy(validationPredictions, at: Array(validation.indices))
            report.validationPerClassAccuracy =
                Evaluator.summarize(validationPredictions, classCount: train.classCount).perClassAccuracy
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

/// How often the test set's samples of two classes are mistaken for each other.
public struct ConfusionCounts: Sendable, Codable, Equatable {
    public var classes: [Int]
    public var aPredictedAsB: Int
    public var bPredictedAsA: Int
}
