import Checkpoint
import Data
import Foundation
import Jobs
import NN
import Transport
import Unlearning

/// Scores models against a reference directory: what `lethe audit` and `lethe unlearn --references` share. It
/// loads and checks the references (dataset, architecture, recipe, split, file and membership hashes) and fits each
/// audited sample's Gaussians once; `report` then scores any number of models.
struct ReferenceAuditor {
    let scenario: Scenario
    let samples: AuditSamples
    let audit: MembershipAudit
    let manifest: ReferenceManifest
    let directory: String
    /// Whether the references' recipe was checked against a recorded one (PyTorch checkpoints record none).
    let recipeChecked: Bool

    /// The audit of `weights`' forget set (`original`'s recipe when given, else `weights`'); refuses references
    /// trained for anything else, and says what to run when there are none.
    init(
        modelOptions: ModelOptions, dataOptions: DataOptions, forgetOptions: ForgetOptions, weights: String,
        original: String?, references: String?, seed: UInt64, validationFraction: Double?
    ) throws {
        scenario = try Scenario.load(
            modelOptions: modelOptions, dataOptions: dataOptions, forgetOptions: forgetOptions, weights: weights,
            seed: seed, validationFraction: validationFraction)
        let trueTrain = try DatasetLoader.load(dataOptions.data, split: .train)
        (manifest, directory) = try Self.loadReferences(
            references, original: original, modelOptions: modelOptions, dataOptions: dataOptions)
        let originalMetadata = try original.map { try modelOptions.loadWithMetadata(weights: $0).metadata }
        let recorded = (originalMetadata ?? scenario.metadata)["lethe.recipe"]
        let recipe = try recorded.map { try JSONDecoder.snakeCase.decode(TrainingRecipe.self, from: Data($0.utf8)) }
        recipeChecked = recipe != nil
        try manifest.checkMatches(
            dataset: try ReferenceManifest.identity(of: trueTrain), architecture: scenario.model.architecture,
            recipe: recipe, split: scenario.split, directory: directory, what: original ?? weights)
        samples = AuditSamples(scenario: scenario, seed: seed)
        audit = try Self.fit(manifest, directory: directory, samples: samples, scenario: scenario) {
            modelOptions.build(seed: 0)
        }
    }

    /// Scores each model (the first is the audited one); writes every sample's scores to `scoresFile` if given.
    func report(
        weights: String, models: [(name: String, path: String, model: Model)], scoresFile: String?
    ) throws -> (AuditReport, rows: [(name: String, figures: AuditFigures, histogram: ScoreHistogram)]) {
        let scored = models.map { entry in
            let phi = samples.phi(of: entry.model, scenario: scenario)
            let scores = audit.scores(phi: phi)
            return (name: entry.name, phi: phi, scores: scores, figures: audit.figures(scores))
        }
        if let scoresFile {
            try AuditScoresFile(
                samples: samples, audit: audit, models: scored.map { ($0.name, $0.phi, $0.scores) }
            ).write(to: scoresFile)
        }
        let report = AuditReport(
            weights: weights, forget: scenario.forgetSet.selection.description, references: directory,
            referenceCount: manifest.references, referenceSeed: manifest.seed, recipeChecked: recipeChecked,
            forgetSamples: samples.forget.count, nonMembers: samples.nonMembers.count, scoresFile: scoresFile,
            figures: scored[0].figures, flagged: scored[0].figures.flaggedAt1pctFpr.map { samples.forget[$0] },
            original: scored.first { $0.name == "original" }?.figures.flagged(as: samples.forget),
            retrain: scored.first { $0.name == "retrain" }?.figures.flagged(as: samples.forget))
        return (
            report,
            scored.map {
                (
                    $0.name, $0.figures,
                    ScoreHistogram(
                        forget: Array($0.scores.offline.prefix(samples.forget.count)),
                        heldOut: Array($0.scores.offline.dropFirst(samples.forget.count)))
                )
            }
        )
    }

    /// The manifest, or what to run to make one.
    private static func loadReferences(
        _ references: String?, original: String?, modelOptions: ModelOptions, dataOptions: DataOptions
    ) throws -> (ReferenceManifest, String) {
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
    private static func fit(
        _ manifest: ReferenceManifest, directory: String, samples: AuditSamples, scenario: Scenario,
        build: () -> Model
    ) throws -> MembershipAudit {
        let membership = manifest.membership(pool: scenario.split.trainingIndices(in: scenario.train))
        var referencePhi = [[Double]](repeating: [], count: samples.count)
        try forEachReference(manifest, directory: directory, membership: membership, build: build) { k, model in
            log("reference \(k + 1)/\(manifest.references): scoring \(samples.count) samples")
            for (row, phi) in samples.phi(of: model, scenario: scenario).enumerated() { referencePhi[row].append(phi) }
        }
        let isIn = samples.trainingIndices.map { index in
            (0..<manifest.references).map { k in index.map { membership.isMember($0, of: k) } ?? false }
        }
        return MembershipAudit(referencePhi: referencePhi, isIn: isIn, positives: samples.forget.count)
    }

    /// Each reference's φ on `indices` of `train` (a run's training set: the audited scenario's training samples,
    /// then any held-out ones appended to it), nil where the reference trained on the sample.
    func unseenConfidence(on train: Dataset, indices: [Int], build: () -> Model) throws -> UnseenConfidence {
        let membership = manifest.membership(pool: scenario.split.trainingIndices(in: scenario.train))
        var phi = [Int: [Double?]](uniqueKeysWithValues: indices.map { ($0, []) })
        try Self.forEachReference(manifest, directory: directory, membership: membership, build: build) { k, model in
            log(
                "reference \(k + 1)/\(manifest.references): measuring \(indices.count) samples for the difficulty match"
            )
            let predictions = Evaluator.predict(model, on: train, indices: indices)
            let scores = LogitConfidence.phi(logits: predictions.logits, labels: predictions.labels)
            for (index, score) in zip(indices, scores) {
                phi[index]!.append(index < scenario.train.count && membership.isMember(index, of: k) ? nil : score)
            }
        }
        return UnseenConfidence(references: manifest.references, phi: phi)
    }

    /// Loads each reference after checking its file and membership hashes against the manifest.
    private static func forEachReference(
        _ manifest: ReferenceManifest, directory: String, membership: ReferenceMembership, build: () -> Model,
        _ body: (Int, Model) throws -> Void
    ) throws {
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
            let model = build()
            _ = try ModelCheckpoint.load(url, into: model)
            try body(k, model)
        }
    }
}
