import ArgumentParser
import Foundation
import Jobs

/// `lethe cache show|prune|clear`: what Lethe's cache holds and how to shrink it (`CacheDirectory`).
struct CacheCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cache",
        abstract: "Show, prune or clear Lethe's cache of originals' predictions, reusable phases and references.",
        discussion: """
            The cache is $LETHE_CACHE_DIR, else $XDG_CACHE_HOME/lethe, else ~/.cache/lethe. Predictions and phases \
            are recomputed when missing and stay within $LETHE_CACHE_MAX_SIZE (default 2 GiB, least recently used \
            first out); prepared audit references are only removed by `clear --references`. A coordinator's \
            cache is STATE_DIR/cache (lethe coordinator --cache-max-size).
            """,
        subcommands: [Show.self, Prune.self, Clear.self], defaultSubcommand: Show.self)

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "What the cache holds, by kind.")
        @Flag(help: "One JSON object instead of text.") var json = false

        func run() throws {
            let cache = CacheDirectory()
            let entries = CacheContents(root: cache.root).entries
            let kinds = CacheShelf.kinds.map { kind in
                let ofKind = entries.filter { $0.kind == kind }
                return CacheSummary.Kind(
                    kind: kind, entries: ofKind.count, bytes: ofKind.reduce(0) { $0 + $1.bytes },
                    oldestUse: ofKind.first?.lastUsed)
            }
            let summary = CacheSummary(
                directory: cache.root.path, maxBytes: try cache.budget().maxBytes, kinds: kinds,
                references: cache.references.map { .init(original: $0.original, directory: $0.directory.path) })
            if json {
                try printJSON(summary)
                return
            }
            print(
                "cache \(summary.directory) (predictions, phases, baselines and data digests at most \(ByteSize(bytes: summary.maxBytes)))"
            )
            for kind in kinds {
                print("  \(kind.kind): \(kind.entries) entries, \(ByteSize(bytes: kind.bytes))")
            }
            print("  references: \(summary.references.count) prepared originals")
            for entry in summary.references { print("    \(entry.original) → \(entry.directory)") }
        }
    }

    struct Prune: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Remove least recently used predictions, phases, baselines and data digests until the rest fit in --max-size."
        )
        @Option(help: "What may stay (e.g. 500M, 2G, 0; default $LETHE_CACHE_MAX_SIZE or 2G).")
        var maxSize: ByteSize?

        func run() throws {
            let cache = CacheDirectory()
            let limit = try maxSize?.bytes ?? cache.budget().maxBytes
            let pruning = CacheContents(root: cache.root).prune(toAtMost: limit)
            print(
                "removed \(pruning.removed) entries (\(ByteSize(bytes: pruning.freedBytes))); "
                    + "\(ByteSize(bytes: pruning.keptBytes)) kept in \(cache.root.path)")
        }
    }

    struct Clear: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove every prediction and phase (and, with --references, the prepared references).")
        @Flag(help: "Also remove prepared audit references (lethe audit prepare must train them again).")
        var references = false

        func run() throws {
            let cache = CacheDirectory()
            let pruning = CacheContents(root: cache.root).prune(toAtMost: 0)
            print("removed \(pruning.removed) entries (\(ByteSize(bytes: pruning.freedBytes)))")
            guard references else { return }
            let entries = cache.references
            let directory = cache.root.appendingPathComponent("references")
            try? FileManager.default.removeItem(at: directory)
            print("removed \(entries.count) reference entries (directories given to audit prepare --out are kept)")
        }
    }
}

struct CacheSummary: Encodable {
    struct Kind: Encodable {
        let kind: String
        let entries: Int
        let bytes: Int64
        let oldestUse: Date?
    }

    struct Reference: Encodable {
        let original: String
        let directory: String
    }

    let directory: String
    let maxBytes: Int64
    let kinds: [Kind]
    let references: [Reference]
}
