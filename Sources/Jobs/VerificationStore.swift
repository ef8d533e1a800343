import Crypto
import Foundation
import NN
import Tensor
import Unlearning

/// Where the "before" half of reports is kept between runs on the same original (issue 15): it depends only on
/// the input model, the data as the run sees it (holdout included), the forget and retain sets, the validation
/// samples, the seed, the baselines and the BLAS kernels, so a later request with all of those equal reuses it
/// instead of a pass over every training and test sample. `key` names all of them.
public protocol VerificationStore: Sendable {
    func load(key: String) -> VerificationReport?
    func save(_ report: VerificationReport, key: String)
}

/// A directory of `<key>.json` files (`lethe unlearn`'s cache directory); unreadable entries are misses.
public struct DirectoryVerificationStore: VerificationStore {
    public let directory: URL

    public init(directory: URL) { self.directory = directory }

    public func load(key: String) -> VerificationReport? {
        guard let data = try? Data(contentsOf: file(key)) else { return nil }
        return try? JSONDecoder.snakeCase.decode(VerificationReport.self, from: data)
    }

    /// Best effort: a cache that cannot be written costs the next run time, not this one its result.
    public func save(_ report: VerificationReport, key: String) {
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        if let data = try? JSONEncoder.sorted.encode(report) { try? data.write(to: file(key), options: .atomic) }
    }

    private func file(_ key: String) -> URL { directory.appendingPathComponent("\(key).json") }
}

extension Verifier {
    /// Bump when what `verify` computes changes, so that older cached reports are not reused.
    public static let revision = 1

    /// The cache key of `model`'s verification against `baselines` on this verifier's data.
    public func cacheKey(_ model: Model, modelSha256: String, baselines: Baselines, trainSha256: String) throws
        -> String
    {
        func digest(_ bytes: [UInt8]) -> String { SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined() }
        func indices(_ list: [Int]) -> CanonicalJSON {
            .string(digest(Array(list.map(String.init).joined(separator: ",").utf8)))
        }
        func tensor(_ tensor: Tensor?) -> CanonicalJSON {
            guard let tensor else { return .null }
            return .string(
                tensor.withUnsafeBufferPointer { digest(Array(UnsafeRawBufferPointer($0))) })
        }
        let key = CanonicalJSON.object([
            "revision": .integer(Int64(Self.revision)), "model_sha256": .string(modelSha256),
            "architecture": .string(model.architecture), "blas": .string(BLAS.kernelIdentity),
            "train": .string(trainSha256),
            "test": .string(DatasetDigest.sha256(try DatasetBlob.encode(test))),
            "selection": .string(forgetSet.selection.description), "forget": indices(forgetSet.forget),
            "retain": indices(forgetSet.retain), "validation": indices(validation), "seed": .string(String(seed)),
            "random_logits": tensor(baselines.randomLogits), "reference_logits": tensor(baselines.referenceLogits),
        ])
        return digest(key.bytes)
    }
}
