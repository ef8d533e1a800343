import Data
import Jobs

extension Scenario {
    /// The scenario the model, data and forget flags describe; what loading filled in or assumed is said on the
    /// console.
    static func load(
        modelOptions: ModelOptions, dataOptions: DataOptions, forgetOptions: ForgetOptions, weights: String,
        seed: UInt64, validationFraction: Double?
    ) throws -> Scenario {
        let scenario = try load(
            architecture: modelOptions.model, data: dataOptions.data, weights: weights,
            selection: { try forgetOptions.selection(seed: seed, trainingSamples: $0) },
            validationFraction: validationFraction, normalization: dataOptions.normalization)
        for note in scenario.notes { log("note: \(note)") }
        return scenario
    }

    /// One split of the data exactly as this scenario's images were preprocessed.
    func load(_ split: Split, from dataOptions: DataOptions) throws -> Dataset {
        try DatasetLoader.load(dataOptions.data, split: split, normalization: preprocessing?.normalization)
    }
}
