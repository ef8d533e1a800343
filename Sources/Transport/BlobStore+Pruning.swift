import Foundation

extension BlobStore {
    /// What pruning removed and what it left.
    public struct Pruning: Sendable, Equatable {
        public let removed: Int
        public let freedBytes: Int64
        public let keptBytes: Int64
    }

    /// Marks a blob as used now, so that pruning takes it last (a worker marks the blobs each task reads).
    public func markUsed(_ sha256: String) {
        try? FileManager.default.setAttributes([.modificationDate: Date()], ofItemAtPath: url(of: sha256).path)
    }

    /// Removes the least recently used complete blobs until the rest hold at most `maxBytes`, except those in
    /// `spared` and those used within the last `recentSeconds` (a task may be about to read them): a cache only,
    /// since whatever goes is downloaded again when a task needs it. Partial downloads stay.
    public func prune(toAtMost maxBytes: Int64, sparing spared: Set<String> = [], recentSeconds: Double = 600)
        -> Pruning
    {
        let keys: Set<URLResourceKey> = [.fileSizeKey, .contentModificationDateKey, .isRegularFileKey]
        let folders =
            (try? FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)) ?? []
        let blobs = folders.flatMap { folder -> [(sha256: String, bytes: Int64, used: Date)] in
            let files =
                (try? FileManager.default.contentsOfDirectory(
                    at: folder, includingPropertiesForKeys: Array(keys), options: [.skipsHiddenFiles])) ?? []
            return files.compactMap { file in
                let name = file.lastPathComponent
                guard name.count == 64, name.allSatisfy(\.isHexDigit),
                    let values = try? file.resourceValues(forKeys: keys),
                    values.isRegularFile == true
                else { return nil }
                return (name, Int64(values.fileSize ?? 0), values.contentModificationDate ?? .distantPast)
            }
        }.sorted { ($0.used, $0.sha256) < ($1.used, $1.sha256) }
        var total = blobs.reduce(0) { $0 + $1.bytes }
        var (removed, freed): (Int, Int64) = (0, 0)
        let recent = Date(timeIntervalSinceNow: -recentSeconds)
        for blob in blobs where total > maxBytes && blob.used < recent && !spared.contains(blob.sha256) {
            guard (try? FileManager.default.removeItem(at: url(of: blob.sha256))) != nil else { continue }
            total -= blob.bytes
            freed += blob.bytes
            removed += 1
        }
        return Pruning(removed: removed, freedBytes: freed, keptBytes: total)
    }
}
