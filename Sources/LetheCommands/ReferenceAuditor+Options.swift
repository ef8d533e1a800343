import Data
import Jobs

extension ReferenceAuditor {
    /// The audit of `weights`' forget set (`original`'s recipe when given, else `weights'`) against the references
    /// in the directory `references`; refuses references trained for anything else, and says what to run when
    /// there are none.
    init(
        modelOptions: ModelOptions, dataOptions: DataOptions, forgetOptions: ForgetOptions, weights: String,
        original: String?, references: String?, seed: UInt64, validationFraction: Double?
    ) throws {
        let scenario = try Scenario.load(
            modelOptions: modelOptions, dataOptions: dataOptions, forgetOptions: forgetOptions, weights: weights,
            seed: seed, validationFraction: validationFraction)
        let trueTrain = try scenario.load(.train, from: dataOptions)
        let set = try ReferenceSet.directory(
            references,
            command: ReferenceSet.prepareCommand(
                original: original, model: modelOptions.model, data: dataOptions.data, out: references))
        let originalMetadata = try original.map { try modelOptions.loadWithMetadata(weights: $0).metadata }
        try self.init(
            scenario: scenario, dataset: try ReferenceManifest.identity(of: trueTrain),
            recordedRecipe: (originalMetadata ?? scenario.metadata)["lethe.recipe"], references: set,
            what: original ?? weights, seed: seed, build: { modelOptions.build(seed: 0) },
            log: { LetheCommands.log($0) })
    }

}
