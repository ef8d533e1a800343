import Checkpoint
import Data
import Foundation
import NN
import Unlearning

/// Scores models against a set of references: what `lethe audit`, `lethe unlearn --references` and a coordinator's
/// jobs with references share. It checks the references against the audited scenario (dataset, architecture,
/// recipe, split, file and membership hashes) and fits each audited sample's Gaussians once; `report` then scores
/// any number of models.
public struct ReferenceAuditor {
    /// The audited scenario: the original, the training set as it saw it, the whole test set and the forget set.
    public let scenario: Scenario
    public let samples: AuditSamples
    public let audit: MembershipAudit
    public let references: ReferenceSet
    /// Whether the references' recipe was checked against a recorded one (PyTorch checkpoints record none).
    public let recipeChecked: Bool
    /// Hears what the auditor is doing (one line each).
    public let log: (String) -> Void

    /// The audit of `scenario`'s forget set; refuses references trained for another dataset (`dataset`: the
    /// training set as loaded, before any split or relabelling), architecture, recipe (`recordedRecipe`: the
    /// original's `lethe.recipe` metadata, nil when it records none) or split. `what` names the model they are
    /// compared with.
    public init(
        scenario: Scenario, dataset: ReferenceManifest.DatasetIdentity, recordedRecipe: String?,
        references: ReferenceSet, what: String, seed: UInt64, build: () -> Model,
        log: @escaping (String) -> Void = { _ in }
    ) throws {
        self.scenario = scenario
        self.references = references
        self.log = log
        let recipe = try recordedRecipe.map {
            try JSONDecoder.snakeCase.decode(TrainingRecipe.self, from: Data($0.utf8))
        }
        recipeChecked = recipe != nil
        try references.manifest.checkMatches(
            dataset: dataset, architecture: scenario.model.architecture, recipe: recipe, split: scenario.split,
            directory: references.name, what: what)
        samples = AuditSamples(scenario: scenario, seed: seed)
        audit = try Self.fit(references, samples: samples, scenario: scenario, build: build, log: log)
    }

    private var manifest: ReferenceManifest { references.manifest }

    /// Scores each model (the first is the audited one); writes every sample's scores to `scoresFile` if given.
    public func report(
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
            weights: weights, forget: scenario.forgetSet.selection.description, references: references.name,
            referenceCount: manifest.references, referenceSeed: manifest.seed, recipeChecked: recipeChecked,
            forgetSamples: samples.forget.count, nonMembers: samples.nonMembers.count, scoresFile: scoresFile,
            figures: scored[0].figures, flagged: scored[0].figures.flaggedAt1pctFpr.map { samples.forget[$0] },
            original: scored.first { $0.name == "original" }?.figures.flagged(as: samples.forget),
            retrain: scored.first { $0.name == "retrain" }?.figures.flagged(as: samples.forget),
            preprocessing: scenario.preprocessing)
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

    /// Every reference's φ on the audited samples, with their membership, fitted once.
    private static func fit(
        _ references: ReferenceSet, samples: AuditSamples, scenario: Scenario, build: () -> Model,
        log: (String) -> Void
    ) throws -> MembershipAudit {
        let manifest = references.manifest
        let membership = manifest.membership(pool: scenario.split.trainingIndices(in: scenario.train))
        var referencePhi = [[Double]](repeating: [], count: samples.count)
        try references.forEach(membership: membership, build: build) { k, model in
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
    public func unseenConfidence(on train: Dataset, indices: [Int], build: () -> Model) throws -> UnseenConfidence {
        let membership = manifest.membership(pool: scenario.split.trainingIndices(in: scenario.train))
        var phi = [Int: [Double?]](uniqueKeysWithValues: indices.map { ($0, []) })
        try references.forEach(membership: membership, build: build) { k, model in
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
}
