import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// How much a run cache may hold: past `maxBytes`, the least recently used entries go first (issue 15's cache
/// GC). Entries are what a later run can recompute, so losing one costs time, never a result.
public struct CacheBudget: Sendable, Equatable {
    /// The default: 2 GiB, about 600 FashionMNIST-sized originals' predictions.
    public static let defaultMaxBytes: Int64 = 2 << 30

    public let maxBytes: Int64

    public init(maxBytes: Int64 = Self.defaultMaxBytes) { self.maxBytes = maxBytes }
}

/// One kind of entry in a run cache (`<root>/<kind>/<key>.safetensors`): reads mark an entry used, writes are
/// atomic and keep the whole cache within its budget.
public struct CacheShelf: Sendable {
    /// The kinds of entry a run cache keeps, each in its own directory.
    public static let kinds = ["predictions", "phases", "baselines", "digests"]

    public let root: URL
    public let kind: String
    public let budget: CacheBudget

    public init(root: URL, kind: String, budget: CacheBudget) {
        self.root = root
        self.kind = kind
        self.budget = budget
    }

    public var directory: URL { root.appendingPathComponent(kind) }

    /// The entry's bytes, marking it used; nil when there is none or it cannot be read.
    public func read(key: String) -> Data? {
        let file = file(key)
        guard let data = try? Data(contentsOf: file) else { return nil }
        try? FileManager.default.setAttributes([.modificationDate: Date()], ofItemAtPath: file.path)
        return data
    }

    /// Best effort: a cache that cannot be written costs the next run time, not this one its result.
    public func write(_ data: Data, key: String) {
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        guard (try? data.write(to: file(key), options: .atomic)) != nil else { return }
        _ = CacheContents(root: root).prune(toAtMost: budget.maxBytes, sparing: file(key))
    }

    /// Runs `body` holding an exclusive `flock(2)` on the key (a hidden `.<key>.lock` beside its entry), so that
    /// processes that read, change and write the same entry take turns instead of one losing the other's write.
    /// Where no lock file can be made (a cache that cannot be written) `body` runs unlocked: the cache is best
    /// effort.
    public func exclusively<Result>(key: String, _ body: () -> Result) -> Result {
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let descriptor = open(
            directory.appendingPathComponent(".\(key).lock").path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { return body() }
        defer { close(descriptor) }  // closing it releases the lock
        while flock(descriptor, LOCK_EX) != 0 && errno == EINTR {}
        return body()
    }

    private func file(_ key: String) -> URL { directory.appendingPathComponent("\(key).safetensors") }
}

/// The entries of a run cache, oldest use first, and their pruning.
public struct CacheContents: Sendable {
    public struct Entry: Sendable, Equatable {
        public let file: URL
        public let kind: String
        public let bytes: Int64
        public let lastUsed: Date
    }

    public struct Pruning: Sendable, Equatable {
        public let removed: Int
        public let freedBytes: Int64
        public let keptBytes: Int64
    }

    public let root: URL

    public init(root: URL) { self.root = root }

    /// Every entry, least recently used first (ties by path).
    public var entries: [Entry] {
        let keys: [URLResourceKey] = [.fileSizeKey, .contentModificationDateKey, .isRegularFileKey]
        return CacheShelf.kinds.flatMap { kind -> [Entry] in
            let directory = root.appendingPathComponent(kind)
            let files =
                (try? FileManager.default.contentsOfDirectory(
                    at: directory, includingPropertiesForKeys: keys, options: [.skipsHiddenFiles])) ?? []
            return files.compactMap { file in
                guard file.pathExtension == "safetensors", let values = try? file.resourceValues(forKeys: Set(keys)),
                    values.isRegularFile == true
                else { return nil }
                return Entry(
                    file: file, kind: kind, bytes: Int64(values.fileSize ?? 0),
                    lastUsed: values.contentModificationDate ?? .distantPast)
            }
        }.sorted { ($0.lastUsed, $0.file.path) < ($1.lastUsed, $1.file.path) }
    }

    /// Removes least recently used entries until the rest hold at most `maxBytes` (never `spared`).
    public func prune(toAtMost maxBytes: Int64, sparing spared: URL? = nil) -> Pruning {
        let entries = entries
        var total = entries.reduce(0) { $0 + $1.bytes }
        var removed = 0
        var freed: Int64 = 0
        for entry in entries where total > maxBytes && entry.file.standardizedFileURL != spared?.standardizedFileURL {
            guard (try? FileManager.default.removeItem(at: entry.file)) != nil else { continue }
            total -= entry.bytes
            freed += entry.bytes
            removed += 1
        }
        return Pruning(removed: removed, freedBytes: freed, keptBytes: total)
    }
}
