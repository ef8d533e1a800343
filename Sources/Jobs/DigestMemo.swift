import Checkpoint
import Data
import Foundation
import NN

/// The sha256s of datasets' blobs (`DatasetBlob`) by what the datasets were loaded from (`Dataset.source`): a later
/// run on the same files skips hashing their samples (FashionMNIST's 190 MB of floats: 0.12 s a run on two cores).
/// A dataset made any other way than loaded (a subset, a relabelling, a holdout appended) has no source and is
/// always hashed.
public struct DigestMemo: Sendable {
    /// Bump when a blob's bytes change for the same dataset.
    static let revision = 1

    public let shelf: CacheShelf

    public init(shelf: CacheShelf) { self.shelf = shelf }

    /// The sha256 of `dataset`'s blob: remembered, or computed and then remembered.
    public func sha256(of dataset: Dataset) throws -> String {
        guard let source = dataset.source else { return try DatasetBlob.sha256(dataset) }
        let key = sha256Hex(Array("\(Self.revision) \(source) \(dataset.name) \(dataset.classCount)".utf8))
        if let data = shelf.read(key: key), let known = try? SafetensorsFile(data: data).metadata["sha256"],
            known.count == 64, known.allSatisfy(\.isHexDigit)
        {
            return known
        }
        let hash = try DatasetBlob.sha256(dataset)
        if let entry = try? SafetensorsFile(tensors: [], metadata: ["sha256": hash]).serialized() {
            shelf.write(entry, key: key)
        }
        return hash
    }
}
