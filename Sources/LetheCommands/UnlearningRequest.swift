import ArgumentParser
import Unlearning

/// What to forget from which model, and how: the flags `lethe unlearn` and `lethe submit` share.
struct UnlearningRequest: ParsableArguments {
    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var dataOptions: DataOptions
    @OptionGroup var forgetOptions: ForgetOptions

    @Option(help: "Unlearning method (see `lethe methods`).") var method: String
    @Option(help: "The trained model to unlearn from (safetensors).") var weights: String
    @Option(name: .customLong("param"), help: "A method parameter, key=value (repeatable).") var params: [String] = []
    @Option(help: "Seed for the method's random choices, the forget fraction and the metrics.") var seed: UInt64 = 1
    @Option(help: "Logical shards per minibatch (changes the bits of the result, not who computes them).")
    var shards = 1
    @Option(help: "A reference checkpoint (e.g. retrained without the forget set) to compare outputs with.")
    var reference: String?
    @Option(help: "Validation fraction for checkpoints that do not record their split (e.g. from PyTorch).")
    var validationFraction: Double?

    func validate() throws {
        _ = try knownMethod()
        if shards < 1 { throw ValidationError("--shards must be at least 1") }
    }

    /// The method with its parameters, refusing unknown or unparsable ones.
    func methodAndParameters() throws -> (any UnlearningMethod, MethodParameters) {
        let method = try knownMethod()
        return (method, try MethodParameters(method.parameters, overrides: MethodParameters.parseOverrides(params)))
    }

    private func knownMethod() throws -> any UnlearningMethod {
        guard let method = UnlearningMethods.named(method) else {
            throw ValidationError(
                "unknown method '\(method)'; choose one of \(UnlearningMethods.all.map(\.name).joined(separator: ", "))"
            )
        }
        return method
    }

    func loadScenario() throws -> Scenario {
        try Scenario.load(
            modelOptions: modelOptions, dataOptions: dataOptions, forgetOptions: forgetOptions, weights: weights,
            seed: seed, validationFraction: validationFraction)
    }
}
