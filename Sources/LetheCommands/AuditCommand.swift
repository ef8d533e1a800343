import ArgumentParser
import Checkpoint
import Data
import Foundation
import Jobs
import NN
import Tensor
import Transport
import Unlearning

/// `lethe audit`: the per-example membership audit (LiRA with shared reference models, `lethe audit prepare`).
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Per-example membership audit: which forget samples a model still recognises (LiRA).",
        subcommands: [AuditRunCommand.self, AuditPrepareCommand.self], defaultSubcommand: AuditRunCommand.self)
}

struct AuditRunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract:
            "Score the forget samples against equally many held-out test samples with the references' Gaussians.")

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var dataOptions: DataOptions
    @OptionGroup var forgetOptions: ForgetOptions
    @OptionGroup var compute: ComputeOptions
    @OptionGroup var output: FormatOptions

    @Option(help: "The model to audit (safetensors).") var weights: String
    @Option(
        help:
            "The reference directory written by lethe audit prepare (default: the cache's references for --original, else for --weights; see lethe audit prepare)."
    )
    var references: String?
    @Option(help: "The original model, audited too for comparison.") var original: String?
    @Option(help: "A retrain without the forget set, audited too (it is what forgetting should look like).")
    var reference: String?
    @Option(help: "Write every audited sample's scores here (.csv, or JSON otherwise).") var scores: String?
    @Option(help: "Seed of the forget fraction and of the held-out samples drawn as non-members.")
    var seed: UInt64 = 1
    @Option(help: "Validation fraction for checkpoints that do not record their split.")
    var validationFraction: Double?

    func validate() throws { try checkWritable(scores, option: "--scores") }

    func run() async throws {
        compute.apply()
        let auditor = try ReferenceAuditor(
            modelOptions: modelOptions, dataOptions: dataOptions, forgetOptions: forgetOptions, weights: weights,
            original: original, references: CacheDirectory().resolve(references, weights: original ?? weights),
            seed: seed,
            validationFraction: validationFraction)
        var models: [(name: String, path: String, model: Model)] = [("audited", weights, auditor.scenario.model)]
        if let original { models.append(("original", original, try modelOptions.load(weights: original))) }
        if let reference { models.append(("retrain", reference, try modelOptions.load(weights: reference))) }
        let (report, rows) = try auditor.report(weights: weights, models: models, scoresFile: scores)
        switch output.format {
        case .json: try printJSON(report)
        case .text: print(report.text(rows: rows.map { ($0.name, $0.figures) }))
        }
    }
}
