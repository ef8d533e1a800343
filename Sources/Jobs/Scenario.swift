import Checkpoint
import Data
import Foundation
import NN
import Tensor
import Unlearning

/// A trained model and the forget request against its training data: what `metrics` and `unlearn` share.
public struct Scenario {
    public let model: Model
    public let metadata: [String: String]
    /// The original's recipe (from its checkpoint, or the default one).
    public let recipe: TrainingRecipe
    public let split: TrainingSplit
    /// The training set as the model saw it (confusion scenarios keep their swapped labels).
    public let train: Dataset
    public let test: Dataset
    public let forgetSet: ForgetSet
    /// Held-out indices in `train` the model never trained on: they steer the run (targets, stopping, rewinding,
    /// automatic choices). The checkpoint's validation split, or with a test-half holdout test samples appended
    /// to `train` (`holdingOut`).
    public let validation: [Int]
    /// Which held-out data steers the run and what `test` is (nil until `holdingOut` chose).
    public let holdout: Holdout?
    /// Which method the request chose and why, for the report (nil when not said).
    public var methodChoice: MethodChoice?
    /// How the images were preprocessed and where that came from (nil in scenarios of older versions).
    public var preprocessing: Preprocessing?
    /// What loading the checkpoint filled in or assumed, one sentence each, for the console.
    public var notes: [String] = []

    public init(
        model: Model, metadata: [String: String], recipe: TrainingRecipe, split: TrainingSplit, train: Dataset,
        test: Dataset, forgetSet: ForgetSet, validation: [Int], holdout: Holdout? = nil
    ) {
        self.model = model
        self.metadata = metadata
        self.recipe = recipe
        self.split = split
        self.train = train
        self.test = test
        self.forgetSet = forgetSet
        self.validation = validation
        self.holdout = holdout
    }

    /// Loads weights and data and resolves the forget selection (`selection` gets the training set's size).
    /// `validationFraction` applies to checkpoints that do not record their split (e.g. trained in PyTorch);
    /// `normalization` (`--normalize`) to checkpoints that do not record their preprocessing (`Preprocessing`).
    public static func load(
        architecture: String, data: String, weights: String,
        selection: (_ trainingSamples: Int) throws -> ForgetSelection, validationFraction: Double?,
        normalization: Normalization? = nil
    ) throws -> Scenario {
        let model = try ModelSpec.build(architecture, seed: 0)
        let checkpoint = try ModelCheckpoint.read(URL(fileURLWithPath: weights), into: model)
        let preprocessing = try Preprocessing.resolve(
            option: normalization, metadata: checkpoint.metadata, checkpoint: weights, data: data)
        // An unlearned model records a --normalize its original did not, so that it is read back the same way.
        let metadata = checkpoint.metadata.merging(preprocessing.derivedMetadata) { _, given in given }
        // Both at once: the training set's decompression is one stream on one core.
        let (trueTrain, test) = try Parallel.both(
            { try DatasetLoader.load(data, split: .train, normalization: preprocessing.normalization) },
            { try DatasetLoader.load(data, split: .test, normalization: preprocessing.normalization) })
        try checkCompatible(model, trueTrain)
        let recorded = try metadata["lethe.split"].map {
            try JSONDecoder.snakeCase.decode(TrainingSplit.self, from: Data($0.utf8))
        }
        if let recorded, let validationFraction, validationFraction != recorded.validationFraction {
            throw ScenarioError(
                "\(weights) was trained with a validation fraction of \(recorded.validationFraction); drop --validation-fraction"
            )
        }
        let split = recorded ?? TrainingSplit(validationFraction: validationFraction ?? 0)
        if let problem = split.problem(in: trueTrain) { throw ScenarioError(problem) }
        let recipe =
            try metadata["lethe.recipe"].map {
                try JSONDecoder.snakeCase.decode(TrainingRecipe.self, from: Data($0.utf8))
            }
            ?? TrainingRecipe()
        var scenario = Scenario(
            model: model, metadata: metadata, recipe: recipe, split: split, train: split.applying(to: trueTrain),
            test: test, forgetSet: try selection(trueTrain.count).resolve(in: trueTrain, split: split),
            validation: split.validationIndices(in: trueTrain))
        scenario.preprocessing = preprocessing
        scenario.notes = checkpoint.notes + [preprocessing.note].compactMap { $0 }
        return scenario
    }
}

/// Refuses a dataset whose images or classes the model cannot take.
public func checkCompatible(_ model: Model, _ dataset: Dataset) throws(ScenarioError) {
    guard dataset.imageShape == model.inputShape else {
        throw ScenarioError(
            "\(model.architecture) takes images of shape \(model.inputShape), but \(dataset.name) has \(dataset.imageShape)"
        )
    }
    do { try TaskCompatibility.check(model, dataset) } catch { throw ScenarioError(error.description) }
    guard dataset.isRegression || dataset.classCount <= model.classCount else {
        throw ScenarioError(
            "\(model.architecture) predicts \(model.classCount) classes, but \(dataset.name) has \(dataset.classCount)")
    }
}

/// Why a scenario cannot be built from what the user gave: bad input (exit 2).
public struct ScenarioError: Error, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// What a coordinator needs, besides the model and the two datasets, to rebuild a `Scenario` exactly as the
/// submitting CLI resolved it (uploaded as a JSON blob).
public struct ScenarioBundle: Codable {
    public let forgetSet: ForgetSet
    public let validation: [Int]
    public let recipe: TrainingRecipe
    public let split: TrainingSplit
    /// The checkpoint's `lethe.*` metadata.
    public let metadata: [String: String]
    /// Which held-out data steers the run (the uploaded training set holds a test-half holdout's samples after
    /// the training samples, and the uploaded test set only the reported half); nil in bundles of older versions.
    public let holdout: Holdout?
    /// Which method the submitting CLI chose and why (nil in bundles of older versions).
    public let methodChoice: MethodChoice?
    /// How the uploaded images were preprocessed and where that came from, for the report: the uploaded datasets
    /// hold the images already normalised, so every worker and the coordinator compute on the same bits (nil in
    /// bundles of older versions).
    public let preprocessing: Preprocessing?

    public init(_ scenario: Scenario) {
        forgetSet = scenario.forgetSet
        validation = scenario.validation
        recipe = scenario.recipe
        split = scenario.split
        metadata = scenario.metadata.filter { $0.key.hasPrefix("lethe.") }
        holdout = scenario.holdout
        methodChoice = scenario.methodChoice
        preprocessing = scenario.preprocessing
    }

    public func scenario(model: Model, train: Dataset, test: Dataset) throws -> Scenario {
        guard forgetSet.forget.allSatisfy({ $0 < train.count }), forgetSet.retain.allSatisfy({ $0 < train.count }),
            validation.allSatisfy({ $0 < train.count })
        else { throw ScenarioError("the scenario names training samples beyond the \(train.count) uploaded") }
        try Scenario.checkDisjoint(validation: validation, forgetSet: forgetSet)
        var scenario = Scenario(
            model: model, metadata: metadata, recipe: recipe, split: split, train: train, test: test,
            forgetSet: forgetSet, validation: validation, holdout: holdout)
        scenario.methodChoice = methodChoice
        scenario.preprocessing = preprocessing
        return scenario
    }
}
