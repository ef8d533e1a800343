import ArgumentParser
import Jobs

/// `--holdout`, shared by `unlearn`, `submit` (and job files) and `metrics`.
struct HoldoutOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Held-out data that steers the run: validation (the checkpoint's split; the default when it has one) or test-half[:SEED] (a stratified half of the test set; test figures then come from the other half; the default otherwise).",
            valueName: "spec"))
    var holdout: String?

    func validate() throws {
        do {
            _ = try spec
        } catch let error as ScenarioError {
            throw ValidationError(error.description)
        }
    }

    /// The spec given, or nil for the checkpoint's default.
    var spec: HoldoutSpec? {
        get throws { try holdout.map { try HoldoutSpec(parsing: $0) } }
    }

    /// `scenario` with its held-out data chosen, said on the console.
    func apply(to scenario: Scenario) throws -> Scenario {
        let held = try scenario.holdingOut(try spec)
        if let holdout = held.holdout { log(holdout.summary) }
        return held
    }
}
