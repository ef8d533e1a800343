import Jobs

extension Scenario {
    /// The scenario the model, data and forget flags describe.
    static func load(
        modelOptions: ModelOptions, dataOptions: DataOptions, forgetOptions: ForgetOptions, weights: String,
        seed: UInt64, validationFraction: Double?
    ) throws -> Scenario {
        try load(
            architecture: modelOptions.model, data: dataOptions.data, weights: weights,
            selection: { try forgetOptions.selection(seed: seed, trainingSamples: $0) },
            validationFraction: validationFraction)
    }
}
