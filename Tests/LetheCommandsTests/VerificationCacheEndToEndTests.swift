import Foundation
import LetheTesting
import Testing

/// What depends only on the original is computed once and reused by later runs on it, with the same figures and
/// output bits as runs that compute it: its predictions on the samples runs needed (the "before" figures, SCRUB's
/// teacher logits; each run predicts only what no earlier one did) and SSD's training-set importances.
@Suite(.enabled(if: FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist")))
struct VerificationCacheEndToEndTests {
    let common = EndToEndTests()

    /// `lethe unlearn` of the small original with the cache in `directory`, `--keep-failed`, and its JSON report.
    func unlearn(
        _ name: String, in directory: TemporaryDirectory, data: String, original: String, _ arguments: [String]
    ) async throws -> [String: Any] {
        let report = directory.path("\(name).json")
        let result = try await LetheProcess.run(
            [
                "unlearn", "--model", "fmnist-mlp", "--data", data, "--weights", original, "--keep-failed", "--out",
                directory.path("\(name).safetensors"), "--report", report,
            ] + arguments, environment: ["LETHE_CACHE_DIR": directory.path("cache")])
        #expect(FileManager.default.fileExists(atPath: report), "\(result.standardError)")
        return try common.json(String(contentsOfFile: report, encoding: .utf8))
    }

    /// Each run predicts only the samples no earlier run predicted (its measured samples and, for SCRUB, the
    /// teacher's rows) and keeps them with the others.
    @Test(arguments: ["neggrad+", "scrub"])
    func laterRunsOnTheSameOriginalDeriveTheirBeforeFiguresFromItsKeptPredictions(method: String) async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (data, original) = try await common.smallOriginal(in: directory)
        func run(_ name: String, forget: String = "1", seed: String = "1", extra: [String] = []) async throws
            -> [String: Any]
        {
            try await unlearn(
                name, in: directory, data: data, original: original,
                ["--forget-classes", forget, "--method", method, "--seed", seed, "--verify-retain", "100"] + extra)
        }
        func reusedPredictions(_ report: [String: Any]) -> Bool {
            (report["reused"] as? [String] ?? []).contains { $0.hasPrefix("original's predictions") }
        }
        let first = try await run("first")
        #expect(!reusedPredictions(first))
        // The same request, another seed and another forget set all reuse the original's predictions, with the
        // figures and bits of runs that compute them.
        let pairs = [
            (try await run("again"), try await run("again-computed", extra: ["--no-cache"])),
            (try await run("seed-2", seed: "2"), try await run("seed-2-computed", seed: "2", extra: ["--no-cache"])),
            (
                try await run("class-3", forget: "3"),
                try await run("class-3-computed", forget: "3", extra: ["--no-cache"])
            ),
        ]
        for (reusing, computed) in pairs {
            #expect(reusedPredictions(reusing) && computed["reused"] == nil)
            #expect(NSDictionary(dictionary: reusing["before"] as! [String: Any]).isEqual(computed["before"]))
            #expect(reusing["output_sha256"] as? String == computed["output_sha256"] as? String)
        }
        #expect(NSDictionary(dictionary: pairs[0].0["before"] as! [String: Any]).isEqual(first["before"]))
    }

    /// The baselines of a verification (a random initialisation's logits on the forget set, a reference's logits
    /// there and test accuracy per class) are kept by forget set, seed, data and reference: another method on the
    /// same request reuses them with the figures of a run that computes them; another seed computes its own.
    @Test func anotherMethodOnTheSameRequestReusesTheBaselines() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (data, original) = try await common.smallOriginal(in: directory)
        func run(_ name: String, method: String, seed: String = "1", extra: [String] = []) async throws
            -> [String: Any]
        {
            try await unlearn(
                name, in: directory, data: data, original: original,
                ["--forget-classes", "1", "--method", method, "--seed", seed, "--reference", original] + extra)
        }
        func reusedBaselines(_ report: [String: Any]) -> Bool {
            (report["reused"] as? [String] ?? []).contains { $0.hasPrefix("baselines ") }
        }
        let first = try await run("neggrad", method: "neggrad+")
        #expect(!reusedBaselines(first))
        let reusing = try await run("finetune", method: "finetune")
        let computed = try await run("finetune-computed", method: "finetune", extra: ["--no-cache"])
        #expect(reusedBaselines(reusing) && computed["reused"] == nil)
        for key in ["before", "after"] {
            #expect(NSDictionary(dictionary: reusing[key] as! [String: Any]).isEqual(computed[key]), "\(key)")
        }
        let perClass = try #require(reusing["per_class"] as? [[String: Any]])
        #expect(!perClass.isEmpty && perClass.allSatisfy { $0["retrain"] is Double })
        #expect(NSArray(array: perClass).isEqual(computed["per_class"]))
        #expect(!reusedBaselines(try await run("neggrad-seed-2", method: "neggrad+", seed: "2")))
    }

    /// SSD's training-set importances depend only on the original, the data and the shards: a later request
    /// on the same original (another forget class) restores them instead of a pass over the training set, with
    /// the bits of a run that computes them; other shard counts compute their own.
    @Test func aLaterSSDRequestReusesTheTrainingSetImportances() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (data, original) = try await common.smallOriginal(in: directory)
        func run(_ name: String, forget: String, shards: String = "2", extra: [String] = []) async throws
            -> [String: Any]
        {
            try await unlearn(
                name, in: directory, data: data, original: original,
                [
                    "--forget-classes", forget, "--method", "ssd", "--param", "max-retain-drop=1", "--seed", "1",
                    "--shards", shards,
                ] + extra)
        }
        func phases(_ report: [String: Any]) -> [String] {
            (report["phases"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        }
        let first = try await run("class-1", forget: "1")
        #expect(first["reused"] == nil && phases(first).contains("training-set importance"))
        let later = try await run("class-2", forget: "2")
        let reused = try #require(later["reused"] as? [String])
        #expect(reused.contains { $0.hasPrefix("phase training-set importance") }, "\(reused)")
        #expect(phases(later).contains("training-set importance (reused)"))
        let computed = try await run("class-2-computed", forget: "2", extra: ["--no-cache"])
        #expect(computed["reused"] == nil)
        #expect(later["output_sha256"] as? String == computed["output_sha256"] as? String)
        let otherShards = try await run("class-2-three-shards", forget: "2", shards: "3")
        #expect(!((otherShards["reused"] as? [String]) ?? []).contains { $0.hasPrefix("phase") })
    }

    /// The cache stays within $LETHE_CACHE_MAX_SIZE (the entry a run just wrote stays), `lethe cache` shows, prunes
    /// and clears it, and a size that is not one is refused before any work.
    @Test func theCacheStaysWithinItsBudgetAndIsShownPrunedAndCleared() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (data, original) = try await common.smallOriginal(in: directory)
        let cacheDirectory = directory.path("cache")
        func unlearn(_ name: String, forget: String, shards: String = "2", maxSize: String) async throws
            -> LetheProcess.Result
        {
            try await LetheProcess.run(
                [
                    "unlearn", "--model", "fmnist-mlp", "--data", data, "--weights", original, "--forget-classes",
                    forget, "--method", "ssd", "--param", "max-retain-drop=1", "--seed", "1", "--shards", shards,
                    "--keep-failed", "--out", directory.path("\(name).safetensors"), "--report",
                    directory.path("\(name).json"),
                ], environment: ["LETHE_CACHE_DIR": cacheDirectory, "LETHE_CACHE_MAX_SIZE": maxSize])
        }
        func show() async throws -> [String: Any] {
            let result = try await LetheProcess.run(
                ["cache", "show", "--json"], environment: ["LETHE_CACHE_DIR": cacheDirectory])
            #expect(result.status == 0, "\(result.standardError)")
            return try common.json(result.standardOutput)
        }
        func entries(_ summary: [String: Any]) -> [String: Int] {
            Dictionary(
                uniqueKeysWithValues: (summary["kinds"] as? [[String: Any]] ?? []).map {
                    ($0["kind"] as? String ?? "", $0["entries"] as? Int ?? -1)
                })
        }
        let refused = try await unlearn("refused", forget: "1", maxSize: "lots")
        #expect(refused.status != 0 && refused.standardError.contains("LETHE_CACHE_MAX_SIZE=lots"))
        #expect(!FileManager.default.fileExists(atPath: directory.path("refused.json")))

        _ = try await unlearn("first", forget: "1", maxSize: "1G")
        // Its predictions, both importances (training set, forget set), its verification's baselines and the data's
        // digests (training and test sets).
        #expect(entries(try await show()) == ["predictions": 1, "phases": 2, "baselines": 1, "digests": 2])
        // Another shard count computes its own importances; a budget of one byte keeps only the last one written
        // (the predictions it read are older).
        let tight = try await unlearn("tight", forget: "2", shards: "3", maxSize: "1")
        #expect(FileManager.default.fileExists(atPath: directory.path("tight.json")), "\(tight.standardError)")
        #expect(entries(try await show()) == ["predictions": 0, "phases": 1, "baselines": 0, "digests": 0])

        let pruned = try await LetheProcess.run(
            ["cache", "prune", "--max-size", "0"], environment: ["LETHE_CACHE_DIR": cacheDirectory])
        #expect(pruned.status == 0 && pruned.standardOutput.contains("removed 1 entries"), "\(pruned.standardOutput)")
        #expect(entries(try await show()) == ["predictions": 0, "phases": 0, "baselines": 0, "digests": 0])
        let badSize = try await LetheProcess.run(
            ["cache", "prune", "--max-size", "-3"], environment: ["LETHE_CACHE_DIR": cacheDirectory])
        #expect(badSize.status != 0)
    }
}
