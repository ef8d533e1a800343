import ArgumentParser
import Data
import Foundation
import Jobs
import NN
import Unlearning

struct MetricsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metrics",
        abstract: "Verification metrics of a checkpoint for a forget selection: accuracies, MIA, ZRF.")

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var dataOptions: DataOptions
    @OptionGroup var forgetOptions: ForgetOptions
    @OptionGroup var holdoutOptions: HoldoutOptions
    @OptionGroup var compute: ComputeOptions
    @OptionGroup var output: FormatOptions

    @Option(help: "Weights to verify (safetensors).") var weights: String
    @Option(help: "A reference checkpoint (e.g. retrained without the forget set) to compare outputs with.")
    var reference: String?
    @Option(help: "Seed for the random forget fraction, the attack's splits and ZRF's random model.")
    var seed: UInt64 = 1
    @Option(help: "Validation fraction for checkpoints that do not record their split (e.g. from PyTorch).")
    var validationFraction: Double?

    func run() async throws {
        compute.apply()
        let scenario = try holdoutOptions.apply(
            to: Scenario.load(
                modelOptions: modelOptions, dataOptions: dataOptions, forgetOptions: forgetOptions, weights: weights,
                seed: seed, validationFraction: validationFraction))
        let referenceModel = try reference.map { try modelOptions.load(weights: $0) }
        if scenario.train.isRegression {
            try printRegression(scenario, reference: referenceModel)
            return
        }
        let verifier = Verifier(
            train: scenario.train, test: scenario.test, forgetSet: scenario.forgetSet, seed: seed,
            validation: scenario.validation)
        let report = try verifier.verify(
            scenario.model, randomModel: modelOptions.build(seed: seed &+ 0x5EED), reference: referenceModel,
            progress: ProgressBar().handler)
        let (model, selection) = (scenario.model, scenario.forgetSet.selection)
        switch output.format {
        case .json:
            try printJSON(
                MetricsReport(
                    model: model.architecture, weights: weights, forget: selection.description, metrics: report,
                    holdout: scenario.holdout, preprocessing: scenario.preprocessing))
        case .text:
            print(report.table(forget: selection.description))
            if let holdout = scenario.holdout { print(holdout.summary) }
        }
    }
}

struct MetricsReport: Encodable {
    let model: String
    let weights: String
    let forget: String
    let metrics: VerificationReport
    let holdout: Holdout?
    let preprocessing: Preprocessing?
}

extension VerificationReport {
    /// A human-readable table (percentages).
    func table(forget: String) -> String {
        var rows = [
            "forget selection      \(forget) (\(forgetSamples) samples, \(retainSamples) retained)",
            "forget accuracy       \(percent(forgetAccuracy))",
            "retain accuracy       \(percent(retainAccuracy))",
            "test accuracy         \(percent(testAccuracy))",
        ]
        if testForgetAccuracy != nil {
            rows.append("test, forgotten       \(percent(testForgetAccuracy))")
            rows.append("test, other classes   \(percent(testRetainAccuracy))")
        }
        if validationAccuracy != nil {
            rows.append("validation            \(percent(validationAccuracy))")
        }
        if validationForgetAccuracy != nil {
            rows.append("validation, forgotten \(percent(validationForgetAccuracy))")
            rows.append("validation, others    \(percent(validationRetainAccuracy))")
        }
        rows.append("MIA (loss)            \(percent(mia))   (≈50% when members look like non-members)")
        rows.append("MIA (entropy)         \(percent(miaEntropy))")
        rows.append(String(format: "ZRF                   %.4f", zrf))
        if let activationDistance, let jsDivergence {
            rows.append(
                String(
                    format: "vs reference          activation distance %.4f, JS %.4f", activationDistance, jsDivergence)
            )
        }
        rows.append("per-class test accuracy:")
        for (label, accuracy) in perClassAccuracy.enumerated() { rows.append("  class \(label)  \(percent(accuracy))") }
        return rows.joined(separator: "\n")
    }
}

extension MetricsCommand {
    /// A regression model's L1 and MSE on the forget, retain and test sets and the regression membership attack
    /// (with `--reference`, the reference's too).
    func printRegression(_ scenario: Scenario, reference: Model?) throws {
        func evaluate(_ model: Model) -> RegressionEvaluation {
            RegressionMetrics.evaluate(
                model, train: scenario.train, test: scenario.test, forgetSet: scenario.forgetSet,
                validation: scenario.validation, seed: seed)
        }
        let metrics = evaluate(scenario.model)
        let referenceMetrics = reference.map(evaluate)
        switch output.format {
        case .json:
            try printJSON(
                RegressionMetricsReport(
                    model: scenario.model.architecture, weights: weights,
                    forget: scenario.forgetSet.selection.description, regression: metrics,
                    reference: referenceMetrics))
        case .text:
            print(
                "forgetting \(scenario.forgetSet.selection.description)   model"
                    + (reference == nil ? "" : "   reference"))
            for (name, figures, other) in [
                ("forget", metrics.forget, referenceMetrics?.forget),
                ("retain", metrics.retain, referenceMetrics?.retain),
                ("test", metrics.test, referenceMetrics?.test),
            ] {
                print(
                    String(
                        format: "%@ L1 %.4f  MSE %.4f", name.padding(toLength: 7, withPad: " ", startingAt: 0),
                        figures.l1, figures.mse)
                        + (other.map { String(format: "   L1 %.4f  MSE %.4f", $0.l1, $0.mse) } ?? ""))
            }
            print(
                String(format: "MIA (forget called members) %.1f%%", 100 * metrics.mia)
                    + (referenceMetrics.map { String(format: "   %.1f%%", 100 * $0.mia) } ?? ""))
        }
    }
}

struct RegressionMetricsReport: Encodable {
    let model: String
    let weights: String
    let forget: String
    let regression: RegressionEvaluation
    let reference: RegressionEvaluation?
}
