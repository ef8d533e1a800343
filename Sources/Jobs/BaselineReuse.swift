import Data
import Foundation
import NN
import Tensor
import Unlearning

/// A verification's baselines (`Verifier.Baselines`: a random initialisation's logits on the forget set, and a
/// reference model's logits there and test accuracy per class) kept in the run cache (`baselines/`), by a key
/// naming everything they depend on: a later request on the same forget set, seed, data and reference (another
/// method tried on the same deletion request, say) reuses them instead of predicting again.
struct BaselineReuse {
    /// Bump when what `Verifier.baselines` computes changes, so that older entries are not reused.
    static let revision = 1

    let store: PhaseStore
    let key: String
    /// Test samples per class: a per-class accuracy is kept as its count of correct samples, so that it comes
    /// back as the same `Double` (correct / samples).
    let testClassSamples: [Int]

    init(
        store: PhaseStore, architecture: String, randomSeed: UInt64, data: DatasetDigest, test: Dataset,
        forget: [Int], reference: Model?
    ) {
        self.store = store
        testClassSamples = (0..<test.classCount).map { label in test.labels.lazy.filter { $0 == label }.count }
        var forgetBytes = Data(capacity: 8 * forget.count)
        for index in forget { withUnsafeBytes(of: Int64(index).littleEndian) { forgetBytes.append(contentsOf: $0) } }
        var members: [String: CanonicalJSON] = [
            "revision": .integer(Int64(Self.revision)),
            "architecture": .string(architecture), "random_seed": .string(String(randomSeed)),
            "train": .string(data.trainSha256), "test": .string(data.testSha256),
            "forget": .string(sha256Hex(forgetBytes)),
            "blas": .string(BLAS.kernelIdentity),
        ]
        if let reference { members["reference"] = .string(Self.digest(of: reference)) }
        key = sha256Hex(Data(CanonicalJSON.object(members).bytes))
    }

    /// The SHA-256 of a model's state: every tensor's name, shape and bits in `namedState` order.
    static func digest(of model: Model) -> String {
        var bytes = Data()
        for (name, parameter) in model.namedState {
            bytes.append(contentsOf: Array("\(name)\(parameter.value.shape)".utf8))
            parameter.value.scalars.withUnsafeBytes { bytes.append(contentsOf: $0) }
        }
        return sha256Hex(bytes)
    }

    /// The stored baselines, if an earlier run kept them.
    func load() -> Verifier.Baselines? {
        guard let tensors = store.load(key: key), let random = tensors["random.logits"] else { return nil }
        let correct = tensors["reference.correct_per_class"]?.scalars
        guard correct.map({ $0.count == testClassSamples.count }) != false else { return nil }
        return Verifier.Baselines(
            randomLogits: random, referenceLogits: tensors["reference.logits"],
            referencePerClassAccuracy: correct.map { correct in
                zip(correct, testClassSamples).map { $1 == 0 ? nil : Double($0) / Double($1) }
            })
    }

    func save(_ baselines: Verifier.Baselines) {
        var tensors = ["random.logits": baselines.randomLogits]
        tensors["reference.logits"] = baselines.referenceLogits
        tensors["reference.correct_per_class"] = baselines.referencePerClassAccuracy.map { accuracies in
            let correct = zip(accuracies, testClassSamples).map { accuracy, samples in
                Float(((accuracy ?? 0) * Double(samples)).rounded())
            }
            return Tensor(shape: [correct.count], scalars: correct)
        }
        store.save(tensors, key: key)
    }
}
