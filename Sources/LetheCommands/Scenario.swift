import ArgumentParser
import Data
import Foundation
import NN
import Unlearning

/// A trained model and the forget request against its training data: what `metrics` and `unlearn` share.
struct Scenario {
    let model: Model
    let metadata: [String: String]
    /// The original's recipe (from its checkpoint, or the default one).
    let recipe: TrainingRecipe
    let split: TrainingSplit
    /// The training set as the model saw it (confusion scenarios keep their swapped labels).
    let train: Dataset
    let test: Dataset
    let forgetSet: ForgetSet
    /// Held-out training indices the model never trained on.
    let validation: [Int]

    /// Loads weights and data and resolves the forget selection. `validationFraction` applies to checkpoints
    /// that do not record their split (e.g. trained in PyTorch).
    static func load(
        modelOptions: ModelOptions, dataOptions: DataOptions, forgetOptions: ForgetOptions, weights: String,
        seed: UInt64, validationFraction: Double?
    ) throws -> Scenario {
        let (model, metadata) = try modelOptions.loadWithMetadata(weights: weights)
        let trueTrain = try DatasetLoader.load(dataOptions.data, split: .train)
        let test = try DatasetLoader.load(dataOptions.data, split: .test)
        try checkCompatible(model, trueTrain)
        let recorded = try metadata["lethe.split"].map {
            try JSONDecoder.snakeCase.decode(TrainingSplit.self, from: Data($0.utf8))
        }
        if let recorded, let validationFraction, validationFraction != recorded.validationFraction {
            throw ValidationError(
                "\(weights) was trained with a validation fraction of \(recorded.validationFraction); drop --validation-fraction"
            )
        }
        let split = recorded ?? TrainingSplit(validationFraction: validationFraction ?? 0)
        if let problem = split.problem(in: trueTrain) { throw ValidationError(problem) }
        let recipe =
            try metadata["lethe.recipe"].map {
                try JSONDecoder.snakeCase.decode(TrainingRecipe.self, from: Data($0.utf8))
            }
            ?? TrainingRecipe()
        let selection = try forgetOptions.selection(seed: seed, trainingSamples: trueTrain.count)
        return Scenario(
            model: model, metadata: metadata, recipe: recipe, split: split, train: split.applying(to: trueTrain),
            test: test, forgetSet: try selection.resolve(in: trueTrain, split: split),
            validation: split.validationIndices(in: trueTrain))
    }
}

/// What a coordinator needs, besides the model and the two datasets, to rebuild a `Scenario` exactly as the
/// submitting CLI resolved it (uploaded as a JSON blob).
struct ScenarioBundle: Codable {
    let forgetSet: ForgetSet
    let validation: [Int]
    let recipe: TrainingRecipe
    let split: TrainingSplit
    /// The checkpoint's `lethe.*` metadata.
    let metadata: [String: String]

    init(_ scenario: Scenario) {
        forgetSet = scenario.forgetSet
        validation = scenario.validation
        recipe = scenario.recipe
        split = scenario.split
        metadata = scenario.metadata.filter { $0.key.hasPrefix("lethe.") }
    }

    func scenario(model: Model, train: Dataset, test: Dataset) throws -> Scenario {
        guard forgetSet.forget.allSatisfy({ $0 < train.count }), forgetSet.retain.allSatisfy({ $0 < train.count }),
            validation.allSatisfy({ $0 < train.count })
        else { throw ValidationError("the scenario names training samples beyond the \(train.count) uploaded") }
        return Scenario(
            model: model, metadata: metadata, recipe: recipe, split: split, train: train, test: test,
            forgetSet: forgetSet, validation: validation)
    }
}
