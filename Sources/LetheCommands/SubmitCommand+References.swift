import Data
import Foundation
import Jobs
import NN
import Transport
import Unlearning

/// `lethe submit --references DIR`: the job's result is judged by the membership audit on the coordinator, as
/// `lethe unlearn --references` judges it here. The references travel as blobs by hash (uploads of what the
/// coordinator already holds, e.g. from `lethe audit prepare --coordinator`, send nothing), with the audit's data
/// and a bundle naming them all (`AuditBundle`); the coordinator checks them against the job before any work.
extension SubmitCommand {
    /// The references the job is audited with: `--references DIR`, none with `--references none`, else the cache's
    /// for `--weights` (as `lethe unlearn` takes them), skipped when they do not fit the job.
    func references(for scenario: Scenario, data: JobData) throws -> ReferenceSet? {
        guard let directory = CacheDirectory().resolve(request.references, weights: request.weights) else {
            return nil
        }
        do {
            let references = try localReferences(directory)
            // Given references are checked by the coordinator, which refuses a job they do not fit; cached ones
            // that do not fit are left out here, as `lethe unlearn` leaves them out.
            if request.references == nil {
                try references.manifest.checkMatches(
                    dataset: data.loadedIdentity, architecture: scenario.model.architecture,
                    recipe: try scenario.metadata["lethe.recipe"].map {
                        try JSONDecoder.snakeCase.decode(TrainingRecipe.self, from: Data($0.utf8))
                    }, split: scenario.split, directory: directory, what: request.weights)
            }
            return references
        } catch  where request.references == nil {
            log("the cached references do not fit this job, so it has no audit: \(error)")
            return nil
        }
    }

    /// The references in `directory`, refused before anything is uploaded when there are none (saying what to run)
    /// or when a file does not match its manifest.
    func localReferences(_ directory: String) throws -> ReferenceSet {
        let references = try ReferenceSet.directory(
            directory,
            command: ReferenceSet.prepareCommand(
                original: request.weights, model: request.modelOptions.model, data: request.dataOptions.data,
                out: directory))
        for entry in references.manifest.entries {
            let url = references.url(of: entry)
            let sha256 = try sha256Hex(contentsOf: url)
            guard sha256 == entry.sha256 else {
                throw ReferenceSetError.tampered(url.path, expected: entry.sha256, found: sha256)
            }
        }
        return references
    }

    /// Uploads each reference (each once by hash), then the bundle that names them with the training set as loaded
    /// and the whole test set; returns the bundle's hash.
    func upload(_ references: ReferenceSet, data: UploadedData, with client: ControlClient) async throws -> String {
        for entry in references.manifest.entries {
            let sha256 = try await client.upload(Data(contentsOf: references.url(of: entry)), kind: "checkpoint")
            guard sha256 == entry.sha256 else {
                throw ReferenceSetError.tampered(
                    references.url(of: entry).path, expected: entry.sha256, found: sha256)
            }
        }
        let bundle = AuditBundle(
            references: references.name, manifest: references.manifest, dataset: data.loadedIdentity,
            testSha256: data.loadedTest)
        return try await client.upload(bundle.encoded(), kind: "audit")
    }
}
