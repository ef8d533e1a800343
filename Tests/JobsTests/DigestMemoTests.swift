import Checkpoint
import Data
import Foundation
import Jobs
import LetheTesting
import Testing

/// The data digest of a dataset loaded from files is remembered by what it was loaded from: the remembered value
/// is the blob's sha256 and is what a later run gets; a dataset changed since loading, or an unreadable entry, is
/// hashed anew.
struct DigestMemoTests {
    @Test func aLoadedDatasetsDigestIsRememberedAndOnlyForItsSource() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try Data(npy(descr: "|u1", shape: [3, 2, 2], data: (0..<12).map { UInt8($0 * 20) })).write(
            to: directory.url.appendingPathComponent("train_images.npy"))
        try Data(npy(descr: "<i8", shape: [3], data: littleEndian([Int64]([0, 1, 2])))).write(
            to: directory.url.appendingPathComponent("train_labels.npy"))
        let dataset = try DatasetLoader.load(directory.url.path, split: .train)
        let shelf = CacheShelf(
            root: directory.url.appendingPathComponent("cache"), kind: "digests", budget: CacheBudget())
        let memo = DigestMemo(shelf: shelf)
        let blob = try DatasetBlob.sha256(dataset)
        #expect(try memo.sha256(of: dataset) == blob)
        let entries = try FileManager.default.contentsOfDirectory(atPath: shelf.directory.path)
        #expect(entries.count == 1)
        let entry = shelf.directory.appendingPathComponent(try #require(entries.first))

        // A later answer is the remembered one: a value planted in the entry comes back.
        let planted = String(repeating: "ab", count: 32)
        try SafetensorsFile(tensors: [], metadata: ["sha256": planted]).serialized().write(to: entry)
        #expect(try memo.sha256(of: dataset) == planted)

        // Renamed or cut down since loading: hashed as it is now.
        var renamed = dataset
        renamed.name = "renamed"
        #expect(try memo.sha256(of: renamed) == DatasetBlob.sha256(renamed))
        let subset = dataset.subset(indices: [2, 0])
        #expect(try memo.sha256(of: subset) == DatasetBlob.sha256(subset))

        // An entry that cannot be read is a miss, and is written again.
        try Data("not an entry".utf8).write(to: entry)
        #expect(try memo.sha256(of: dataset) == blob)
        #expect(try memo.sha256(of: dataset) == blob)
    }
}
