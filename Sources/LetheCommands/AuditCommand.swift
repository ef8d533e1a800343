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
    @Option(help: "The reference directory written by lethe audit prepare.") var references: String?
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
        let scenario = try Scenario.load(
            modelOptions: modelOptions, dataOptions: dataOptions, forgetOptions: forgetOptions, weights: weights,
            seed: seed, validationFraction: validationFraction)
        let trueTrain = try DatasetLoader.load(dataOptions.data, split: .train)
        let (manifest, directory) = try loadReferences()
        let originalMetadata = try original.map { try modelOptions.loadWithMetadata(weights: $0).metadata }
        let recorded = (originalMetadata ?? scenario.metadata)["lethe.recipe"]
        let recipe = try recorded.map { try JSONDecoder.snakeCase.decode(TrainingRecipe.self, from: Data($0.utf8)) }
        try manifest.checkMatches(
            dataset: try ReferenceManifest.identity(of: trueTrain), architecture: scenario.model.architecture,
            recipe: recipe, split: scenario.split, directory: directory, what: original ?? weights)
        let samples = AuditSamples(scenario: scenario, seed: seed)
        let audit = try referenceAudit(manifest, directory: directory, samples: samples, scenario: scenario)
        var models: [(name: String, path: String, model: Model)] = [("audited", weights, scenario.model)]
        if let original { models.append(("original", original, try modelOptions.load(weights: original))) }
        if let reference { models.append(("retrain", reference, try modelOptions.load(weights: reference))) }
        let scored = models.map { entry in
            let phi = samples.phi(of: entry.model, scenario: scenario)
            let scores = audit.scores(phi: phi)
            return (name: entry.name, path: entry.path, phi: phi, scores: scores, figures: audit.figures(scores))
        }
        if let scores {
            try AuditScoresFile(
                samples: samples, audit: audit, models: scored.map { ($0.name, $0.phi, $0.scores) }
            ).write(to: scores)
        }
        let report = AuditReport(
            weights: weights, forget: scenario.forgetSet.selection.description, references: directory,
            referenceCount: manifest.references, referenceSeed: manifest.seed, recipeChecked: recipe != nil,
            forgetSamples: samples.forget.count, nonMembers: samples.nonMembers.count, scoresFile: scores,
            figures: scored[0].figures, flagged: scored[0].figures.flaggedAt1pctFpr.map { samples.forget[$0] },
            original: scored.first { $0.name == "original" }?.figures.flagged(as: samples.forget),
            retrain: scored.first { $0.name == "retrain" }?.figures.flagged(as: samples.forget))
        switch output.format {
        case .json: try printJSON(report)
        case .text: print(report.text(rows: scored.map { ($0.name, $0.figures) }))
        }
    }

    /// The manifest, or what to run to make one.
    private func loadReferences() throws -> (ReferenceManifest, String) {
        let command = [
            "lethe audit prepare", "--weights \(original ?? "ORIGINAL.safetensors")", "--model \(modelOptions.model)",
            "--data \(dataOptions.data)", "--references 16", "--seed 1", "--out \(references ?? "references/")",
        ].joined(separator: " ")
        guard let references, let manifest = try ReferenceManifest.read(from: references), !manifest.entries.isEmpty
        else { throw ReferenceSetError.missing(directory: references, command: command) }
        guard manifest.entries.count == manifest.references else {
            throw ReferenceSetError.missing(
                directory: references + " (only \(manifest.entries.count) of \(manifest.references) are trained)",
                command: command)
        }
        return (manifest, references)
    }

    /// Every reference's φ on the audited samples, with their membership, fitted once.
    private func referenceAudit(
        _ manifest: ReferenceManifest, directory: String, samples: AuditSamples, scenario: Scenario
    ) throws -> MembershipAudit {
        let membership = manifest.membership(pool: scenario.split.trainingIndices(in: scenario.train))
        var referencePhi = [[Double]](repeating: [], count: samples.count)
        for (k, entry) in manifest.entries.enumerated() {
            let url = URL(fileURLWithPath: directory).appendingPathComponent(entry.file)
            let sha = try BlobStore.sha256(contentsOf: url)
            guard sha == entry.sha256 else {
                throw ReferenceSetError.tampered(url.path, expected: entry.sha256, found: sha)
            }
            guard ReferenceManifest.membersSha256(membership.members(of: k)) == entry.membersSha256 else {
                throw ReferenceSetError.tampered(
                    "the membership of \(entry.file)", expected: entry.membersSha256, found: "regenerated differently")
            }
            let model = modelOptions.build(seed: 0)
            _ = try ModelCheckpoint.load(url, into: model)
            log("reference \(k + 1)/\(manifest.references): scoring \(samples.count) samples")
            for (row, phi) in samples.phi(of: model, scenario: scenario).enumerated() { referencePhi[row].append(phi) }
        }
        let isIn = samples.trainingIndices.map { index in
            (0..<manifest.references).map { k in index.map { membership.isMember($0, of: k) } ?? false }
        }
        return MembershipAudit(referencePhi: referencePhi, isIn: isIn, positives: samples.forget.count)
    }
}
