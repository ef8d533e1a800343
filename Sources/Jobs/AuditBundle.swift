import Data
import Foundation
import NN
import Unlearning

/// What a coordinator needs, besides the job's own inputs, to audit a job's result as `lethe unlearn --references`
/// does (uploaded as a JSON blob, `JobSpec.auditSHA256`): the references' manifest, whose entries name each
/// reference file by the sha256 it is stored under as a blob, and the audit's own data. The audit scores the
/// original's training samples against the whole test set, while the job's data is cut for its holdout (a test
/// half is appended to the training set and taken out of the test set), so the training set as loaded and the
/// whole test set travel too — as blobs by hash, so nothing the coordinator already holds is sent again (the
/// references and training set of `lethe audit prepare --coordinator`, a test set the job uploaded whole).
public struct AuditBundle: Sendable, Codable, Equatable {
    /// The references as the user named them (the directory given to `--references`), for reports and refusals.
    public let references: String
    public let manifest: ReferenceManifest
    /// The training set as loaded (before any split, relabelling or holdout); its dataset blob has this sha256.
    public let dataset: ReferenceManifest.DatasetIdentity
    /// The whole test set's dataset blob.
    public let testSha256: String

    public init(
        references: String, manifest: ReferenceManifest, dataset: ReferenceManifest.DatasetIdentity,
        testSha256: String
    ) {
        self.references = references
        self.manifest = manifest
        self.dataset = dataset
        self.testSha256 = testSha256
    }

    /// Every blob the audit reads: the training set, the test set and each reference.
    public var blobs: [String] { [dataset.sha256, testSha256] + manifest.entries.map(\.sha256) }

    public func encoded() throws -> Data { try JSONEncoder.sorted.encode(self) }

    /// A bundle as a job carries it, checked: it reads, its manifest has the current format and every reference,
    /// and every hash is a SHA-256 (64 lowercase hex digits).
    public static func decode(_ data: Data) throws -> AuditBundle {
        let bundle: AuditBundle
        do {
            bundle = try JSONDecoder.snakeCase.decode(AuditBundle.self, from: data)
        } catch {
            throw ScenarioError("the job's audit references do not read: \(error)")
        }
        guard bundle.manifest.format == ReferenceManifest.currentFormat else {
            throw ReferenceSetError.unreadable(
                bundle.references, "format \(bundle.manifest.format), expected \(ReferenceManifest.currentFormat)")
        }
        if let bad = bundle.blobs.first(where: { !Self.isSHA256($0) }) {
            throw ReferenceSetError.unreadable(bundle.references, "'\(bad)' is not a SHA-256")
        }
        try bundle.manifest.checkComplete(
            name: bundle.references,
            command: ReferenceSet.prepareCommand(
                original: nil, model: bundle.manifest.architecture, data: bundle.dataset.name, out: bundle.references)
                + " --coordinator ADDR")
        return bundle
    }

    /// Refuses references trained for another dataset, architecture, recipe or split than the job's original
    /// (`what`, as the user named it), before any work.
    public func check(model: Model, scenario: ScenarioBundle, what: String) throws {
        try manifest.checkMatches(
            dataset: dataset, architecture: model.architecture, recipe: try scenario.recordedRecipe,
            split: scenario.split, directory: references, what: what)
    }

    /// The auditor of the job's forget set: `original` with the training set as loaded (`train`) and the whole test
    /// set (`test`), the job's forget set and seed, against the references stored where `blob` says.
    public func auditor(
        original: Model, scenario: ScenarioBundle, train: Dataset, test: Dataset, seed: UInt64, what: String,
        blob: @escaping (String) -> URL, build: () -> Model, log: @escaping (String) -> Void = { _ in }
    ) throws -> ReferenceAuditor {
        guard train.count == dataset.samples else {
            throw ScenarioError("the audit's training set has \(train.count) samples, its manifest \(dataset.samples)")
        }
        let forgetSet = scenario.forgetSet
        guard forgetSet.forget.allSatisfy({ $0 < train.count }), forgetSet.retain.allSatisfy({ $0 < train.count })
        else {
            throw ScenarioError("the job's forget set names samples beyond the audit's \(train.count) training samples")
        }
        let split = scenario.split
        // As `Scenario.load` reads it for `lethe unlearn --references`: no holdout, every test sample.
        let audited = Scenario(
            model: original, metadata: scenario.metadata, recipe: scenario.recipe, split: split,
            train: split.applying(to: train), test: test, forgetSet: forgetSet,
            validation: split.validationIndices(in: train))
        return try ReferenceAuditor(
            scenario: audited, dataset: dataset, recordedRecipe: scenario.metadata["lethe.recipe"],
            references: ReferenceSet(manifest: manifest, name: references) { blob($0.sha256) }, what: what,
            seed: seed, build: build, log: log)
    }

    static func isSHA256(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }
}

extension ScenarioBundle {
    /// The original's recorded recipe (nil when its checkpoint records none, e.g. trained in PyTorch).
    var recordedRecipe: TrainingRecipe? {
        get throws {
            try metadata["lethe.recipe"].map {
                try JSONDecoder.snakeCase.decode(TrainingRecipe.self, from: Data($0.utf8))
            }
        }
    }
}
