import Checkpoint
import Data
import Foundation
import Jobs
import NN
import Transport
import Unlearning
import Wire

/// What a worker keeps between shard tasks: the job's dataset and original model (resolved by hash from its blob
/// cache, one job's at a time to keep memory bounded), the frozen models derived from the original, and the student
/// replica with its weights version.
struct ShardCache {
    private let blobs: BlobStore
    private var datasets: [String: Dataset] = [:]
    private var originals: [String: Model] = [:]
    private var frozen: [String: FrozenModels] = [:]
    private var replica: (architecture: String, weights: String, model: Model)?

    init(blobs: BlobStore) { self.blobs = blobs }

    /// The weights version the replica holds, if any.
    var replicaWeights: String? { replica?.weights }

    /// Keeps `dataset` as the one with this hash (its blob's), as if decoded from the blob cache.
    mutating func adopt(_ dataset: Dataset, sha256: String) { datasets = [sha256: dataset] }

    /// The dataset with this hash, decoded from the blob cache.
    mutating func dataset(_ sha256: String) throws(ProtocolError) -> Dataset {
        if let dataset = datasets[sha256] { return dataset }
        do {
            let dataset = try DatasetBlob.decode(try blobs.data(sha256))
            datasets = [sha256: dataset]  // one job's data at a time keeps memory bounded
            return dataset
        } catch {
            throw ProtocolError(.unknownBlob, "dataset \(sha256) is not usable here: \(error)")
        }
    }

    /// The job's original model, loaded from its checkpoint in the blob cache.
    mutating func original(_ context: JobContext) throws(ProtocolError) -> Model {
        let key = context.architecture + "@" + context.originalSHA256
        if let model = originals[key] { return model }
        let model = try build(context.architecture)
        do {
            // As the coordinator and the submitting command load it (a missing BatchNorm counter counts from 0).
            _ = try ModelCheckpoint.read(
                try blobs.data(context.originalSHA256), source: context.originalSHA256, into: model)
        } catch {
            throw ProtocolError(.unknownBlob, "original checkpoint \(context.originalSHA256) does not load: \(error)")
        }
        originals = [key: model]
        return model
    }

    /// The frozen models (the original, random initialisations) the job's losses may refer to.
    mutating func frozenModels(_ context: JobContext, original: Model) -> FrozenModels {
        let key = context.architecture + "@" + context.originalSHA256
        if let models = frozen[key] { return models }
        let architecture = context.architecture
        let models = FrozenModels(original: original) { try! ModelSpec.build(architecture, seed: $0) }
        frozen = [key: models]
        return models
    }

    /// The replica for a task that brings no weights: it must hold the task's (otherwise `staleWeights`).
    func student(_ context: JobContext) throws(ProtocolError) -> Model {
        guard let replica, replica.weights == context.weightsVersion, replica.architecture == context.architecture
        else {
            throw ProtocolError(.staleWeights, "stale weights: this worker does not hold \(context.weightsVersion)")
        }
        return replica.model
    }

    /// The replica for a task that brings its weights, with the gate that loads them as they arrive. It is no
    /// replica until `keep` (after the gate's check).
    mutating func student(_ context: JobContext, arriving arrival: WeightsArrival, like original: Model)
        -> WeightsGate
    {
        let model = replica?.architecture == context.architecture ? replica!.model : original.copy()
        replica = nil
        return WeightsGate(model: model, arrival: arrival, context: context)
    }

    /// Keeps `model` as the replica holding the task's weights (checked).
    mutating func keep(_ model: Model, _ context: JobContext) {
        replica = (context.architecture, context.weightsVersion, model)
    }

    private func build(_ architecture: String) throws(ProtocolError) -> Model {
        do {
            return try ModelSpec.build(architecture, seed: 0)
        } catch {
            throw ProtocolError(.badRequest, "unknown architecture: \(error)")
        }
    }
}
