import Foundation
import LetheTesting
import Testing

/// `lethe bench unlearn` and `lethe bench engine` as a user runs them: machine-readable figures, taken in one run.
@Suite(.enabled(if: FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist")))
struct BenchEndToEndTests {
    let common = EndToEndTests()

    /// Two whole `lethe unlearn` processes: each reports its wall time and phases; the second reuses the first's
    /// "before" verification (from the bench's own cold cache) and gives the same bits.
    @Test func benchUnlearnTimesWholeRunsByPhase() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (data, original) = try await common.smallOriginal(in: directory)
        let bench = try await LetheProcess.run([
            "bench", "unlearn", "--runs", "2", "--format", "json", "--", "--model", "fmnist-mlp", "--data", data,
            "--weights", original, "--forget-classes", "1", "--method", "neggrad+", "--seed", "1", "--keep-failed",
        ])
        try #require(bench.status == 0, "\(bench.standardError)")
        let report = try common.json(bench.standardOutput)
        let runs = try #require(report["runs"] as? [[String: Any]])
        #expect(runs.count == 2 && report["cpu"] is String && report["blas"] is [String: Any])
        for run in runs {
            let phases = (run["phases"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
            #expect(
                phases.starts(with: ["load", "data digest", "baselines", "before", "forget target", "method", "after"]))
            #expect(phases.contains("write"))
            #expect((run["wall_seconds"] as? Double ?? 0) > 0)
        }
        #expect((runs[0]["reused"] as? [String])?.isEmpty == true)
        #expect((runs[1]["reused"] as? [String])?.first?.hasPrefix("original's predictions") == true)
        #expect(runs[0]["output_sha256"] as? String == runs[1]["output_sha256"] as? String)

        let refused = try await LetheProcess.run(["bench", "unlearn", "--", "--out", "x.safetensors"])
        #expect(refused.status == 2 && refused.standardError.contains("--out"))
    }

    /// Training steps on `lethe worker` processes over loopback TCP against the in-process executor (on the
    /// workers' threads together): the same bits, and the bytes a step moves (the weights to each worker and its
    /// gradients back).
    @Test func benchDistributedRunsRealWorkerProcesses() async throws {
        let bench = try await LetheProcess.run([
            "bench", "distributed", "--model", "fmnist-mlp", "--workers", "2", "--steps", "3", "--processes",
            "--threads", "1", "--format", "json",
        ])
        try #require(bench.status == 0, "\(bench.standardError)")
        let report = try common.json(bench.standardOutput)
        #expect(report["workers_are"] as? String == "processes" && report["same_bits"] as? Bool == true)
        // Measured against one process with the threads the two workers have together.
        #expect(report["worker_threads"] as? Int == 1, "\(report)")
        #expect(report["threads"] as? Int == min(2, ProcessInfo.processInfo.activeProcessorCount), "\(report)")
        let parameterBytes = try #require(report["parameter_bytes"] as? Int)
        #expect((report["bytes_per_step"] as? Int ?? 0) >= 2 * 2 * parameterBytes, "\(report)")
    }

    /// The figures, and steady-state training that faults no memory in (`MemoryPolicy`: glibc gave the
    /// CNN's buffers back and took them again every step, thousands of pages a step).
    @Test func benchEngineReportsBothSgemmPeaksAndInference() async throws {
        let bench = try await LetheProcess.run([
            "bench", "engine", "--model", "fmnist-cnn", "--seconds", "0.2", "--format", "json",
        ])
        try #require(bench.status == 0, "\(bench.standardError)")
        let report = try common.json(bench.standardOutput)
        for key in [
            "sgemm_gflops", "sgemm_gflops_one_thread", "train_samples_per_second", "inference_samples_per_second",
        ] {
            #expect((report[key] as? Double ?? 0) > 0, "\(key)")
        }
        // One entry per top-level layer, timed as the model runs them (the convolutions' both ways).
        let layers = try #require(report["layers"] as? [[String: Any]])
        #expect(
            layers.compactMap { $0["name"] as? String }.filter { $0.hasPrefix("conv") || $0.hasPrefix("fc") } == [
                "conv1", "conv2", "fc1", "fc2",
            ])
        for conv in layers where (conv["name"] as? String)?.hasPrefix("conv") == true {
            #expect((conv["forward_ms"] as? Double ?? 0) > 0 && (conv["backward_ms"] as? Double ?? 0) > 0, "\(conv)")
        }
        let faults = try #require(report["train_page_faults_per_step"] as? Double)
        #expect(faults < 500, "\(faults) pages faulted in per training step")
        let refused = try await LetheProcess.run(["bench", "engine", "--inference-batch-size", "0"])
        #expect(refused.status == 2 && refused.standardError.contains("--inference-batch-size must be between 1"))
    }
}
