import Foundation
import LetheTesting
import Testing

/// The original's "before" verification is computed once per set of inputs and reused by later runs, with the
/// same figures and the same output bits; a run on other inputs computes its own.
@Suite(.enabled(if: FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist")))
struct VerificationCacheEndToEndTests {
    let common = EndToEndTests()

    @Test func aSecondRunOnTheSameInputsReusesTheBeforeVerification() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (data, original) = try await common.smallOriginal(in: directory)
        let cache = ["LETHE_CACHE_DIR": directory.path("cache")]
        func run(_ name: String, seed: String, extra: [String] = []) async throws -> [String: Any] {
            let report = directory.path("\(name).json")
            let result = try await LetheProcess.run(
                [
                    "unlearn", "--model", "fmnist-mlp", "--data", data, "--weights", original, "--forget-classes", "1",
                    "--method", "neggrad+", "--seed", seed, "--keep-failed", "--out",
                    directory.path("\(name).safetensors"),
                    "--report", report,
                ] + extra, environment: cache)
            #expect(FileManager.default.fileExists(atPath: report), "\(result.standardError)")
            return try common.json(String(contentsOfFile: report, encoding: .utf8))
        }
        let first = try await run("first", seed: "1")
        let second = try await run("second", seed: "1")
        let otherSeed = try await run("other", seed: "2")
        let uncached = try await run("uncached", seed: "1", extra: ["--no-cache"])
        #expect(first["reused"] == nil && otherSeed["reused"] == nil && uncached["reused"] == nil)
        let reused = try #require(second["reused"] as? [String])
        #expect(reused.count == 1 && reused[0].hasPrefix("before verification"))
        for report in [second, uncached] {
            #expect(NSDictionary(dictionary: report["before"] as! [String: Any]).isEqual(first["before"]))
            #expect(report["output_sha256"] as? String == first["output_sha256"] as? String)
        }
    }

    /// SSD's training-set importances depend only on the original, the data and the shards: a later request
    /// on the same original (another forget class) restores them instead of a pass over the training set, with
    /// the bits of a run that computes them; other shard counts compute their own.
    @Test func aLaterSSDRequestReusesTheTrainingSetImportances() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (data, original) = try await common.smallOriginal(in: directory)
        let cache = ["LETHE_CACHE_DIR": directory.path("cache")]
        func run(_ name: String, forget: String, shards: String = "2", extra: [String] = []) async throws
            -> [String: Any]
        {
            let report = directory.path("\(name).json")
            let result = try await LetheProcess.run(
                [
                    "unlearn", "--model", "fmnist-mlp", "--data", data, "--weights", original, "--forget-classes",
                    forget, "--method", "ssd", "--param", "max-retain-drop=1", "--seed", "1", "--shards", shards,
                    "--keep-failed", "--out", directory.path("\(name).safetensors"), "--report", report,
                ] + extra, environment: cache)
            #expect(FileManager.default.fileExists(atPath: report), "\(result.standardError)")
            return try common.json(String(contentsOfFile: report, encoding: .utf8))
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
}
