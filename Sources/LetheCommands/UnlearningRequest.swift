import ArgumentParser
import Jobs
import Unlearning

/// What to forget from which model, and how: the flags `lethe unlearn` and `lethe submit` share.
struct UnlearningRequest: ParsableArguments {
    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var dataOptions: DataOptions
    @OptionGroup var forgetOptions: ForgetOptions
    @OptionGroup var holdoutOptions: HoldoutOptions

    @Option(
        help:
            "Unlearning method (see `lethe methods`); without it, the recommended one for the selection (the report's method_choice says which and why)."
    )
    var method: String?
    @Option(help: "The trained model to unlearn from (safetensors).") var weights: String
    @Option(name: .customLong("param"), help: "A method parameter, key=value (repeatable).") var params: [String] = []
    @Option(help: "Seed for the method's random choices, the forget fraction and the metrics.") var seed: UInt64 = 1
    @Option(help: "Logical shards per minibatch (changes the bits of the result, not who computes them).")
    var shards = 1
    @Option(help: "A reference checkpoint (e.g. retrained without the forget set) to compare outputs with.")
    var reference: String?
    @Option(
        help:
            "Audit the forget set with these membership-audit references (`lethe audit prepare`); a forget set still exposed misses the run's targets. Default: the cache's references for --weights, if prepared; `none`: no audit."
    )
    var references: String?
    @Option(help: "Validation fraction for checkpoints that do not record their split (e.g. from PyTorch).")
    var validationFraction: Double?
    @Flag(help: "Write the model even when the run misses its targets (it still exits 1; the report says so).")
    var keepFailed = false
    @Option(
        help:
            "Measure the retain accuracy on a seeded sample of this many retained samples (the report gives the estimate's 95% margin); 0 measures every one. Default: 10000 for a classifier, every one for regression. The forget set, validation and test sets are always predicted whole."
    )
    var verifyRetain: Int?

    func validate() throws {
        // What can be checked without reading the checkpoint; `loadScenario` checks the rest before any work.
        // (ArgumentParser exits 1 for any other error type thrown here; bad parameters are bad usage: 2.)
        do {
            try methodAndParameters().1.checkShards(shards, recipe: nil)
        } catch let error as MethodParameterError {
            throw ValidationError(error.description)
        }
    }

    /// The method with its parameters, refusing unknown or unparsable ones.
    func methodAndParameters() throws -> (any UnlearningMethod, MethodParameters) {
        let method = try knownMethod()
        return (method, try MethodParameters(method.allParameters, overrides: overrides))
    }

    /// The `--param` overrides, with `--keep-failed` and `--verify-retain` as the parameters they stand for.
    var overrides: [String: String] {
        get throws {
            var overrides = try MethodParameters.parseOverrides(params)
            if keepFailed { overrides["keep-failed"] = "true" }
            if let verifyRetain { overrides["verify-retain"] = String(verifyRetain) }
            return overrides
        }
    }

    /// The method named with `--method`, or the recommended one for the kind of selection.
    var methodChoice: MethodChoice {
        method.map(MethodChoice.given) ?? .recommended(for: forgetOptions.kind)
    }

    private func knownMethod() throws -> any UnlearningMethod {
        let method = methodChoice.method
        guard let method = UnlearningMethods.named(method) else {
            throw ValidationError(
                "unknown method '\(method)'; choose one of \(UnlearningMethods.all.map(\.name).joined(separator: ", "))"
            )
        }
        return method
    }

    /// The model, data, forget set, holdout and method choice, refusing `--shards` beyond what the original's
    /// recipe allows.
    func loadScenario() throws -> Scenario {
        var scenario = try holdoutOptions.apply(
            to: Scenario.load(
                modelOptions: modelOptions, dataOptions: dataOptions, forgetOptions: forgetOptions, weights: weights,
                seed: seed, validationFraction: validationFraction))
        try methodAndParameters().1.checkShards(shards, recipe: scenario.recipe)
        scenario.methodChoice = methodChoice
        if methodChoice.chosenBy == "default" { log("method \(methodChoice.method) (default): \(methodChoice.reason)") }
        return scenario
    }
}
