import Foundation
import Jobs
import LetheTesting
import Testing

/// A run cache stays within its budget by removing the least recently used entries first; reading an entry counts
/// as a use, and the entry just written is never the one removed.
struct CacheShelfTests {
    func entry(_ shelf: CacheShelf, _ key: String, bytes: Int, usedSecondsAgo: Double) throws {
        try FileManager.default.createDirectory(at: shelf.directory, withIntermediateDirectories: true)
        let file = shelf.directory.appendingPathComponent("\(key).safetensors")
        try Data(repeating: 1, count: bytes).write(to: file)
        try FileManager.default.setAttributes(
            [.modificationDate: Date(timeIntervalSinceNow: -usedSecondsAgo)], ofItemAtPath: file.path)
    }

    @Test func pruningRemovesTheLeastRecentlyUsedAcrossKindsUntilTheRestFits() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let root = URL(fileURLWithPath: directory.path("cache"))
        let predictions = CacheShelf(root: root, kind: "predictions", budget: CacheBudget())
        let phases = CacheShelf(root: root, kind: "phases", budget: CacheBudget())
        try entry(predictions, "old", bytes: 100, usedSecondsAgo: 300)
        try entry(phases, "middle", bytes: 100, usedSecondsAgo: 200)
        try entry(predictions, "new", bytes: 100, usedSecondsAgo: 100)
        let contents = CacheContents(root: root)
        #expect(
            contents.entries.map(\.file.lastPathComponent) == [
                "old.safetensors", "middle.safetensors", "new.safetensors",
            ])
        let pruning = contents.prune(toAtMost: 150)
        #expect((pruning.removed, pruning.freedBytes, pruning.keptBytes) == (2, 200, 100))
        #expect(contents.entries.map(\.file.lastPathComponent) == ["new.safetensors"])
    }

    @Test func aReadEntryIsUsedAndSurvivesAWriteThatOverflowsTheBudget() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let root = URL(fileURLWithPath: directory.path("cache"))
        let shelf = CacheShelf(root: root, kind: "predictions", budget: CacheBudget(maxBytes: 250))
        try entry(shelf, "a", bytes: 100, usedSecondsAgo: 300)
        try entry(shelf, "b", bytes: 100, usedSecondsAgo: 200)
        #expect(shelf.read(key: "a")?.count == 100)  // now the most recently used
        #expect(shelf.read(key: "missing") == nil)
        shelf.write(Data(repeating: 2, count: 100), key: "c")
        let kept = Set(CacheContents(root: root).entries.map(\.file.lastPathComponent))
        #expect(kept == ["a.safetensors", "c.safetensors"])
        // An entry larger than the whole budget is still kept (this run wrote it for the next), alone.
        shelf.write(Data(repeating: 3, count: 400), key: "big")
        #expect(CacheContents(root: root).entries.map(\.file.lastPathComponent) == ["big.safetensors"])
    }
}
