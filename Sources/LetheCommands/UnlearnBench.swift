import ArgumentParser
import Foundation
import Jobs
import Tensor

/// `lethe bench unlearn -- ARGUMENTS`: times whole `lethe unlearn` processes as a user waits for them (wall time),
/// and by phase from each run's report (load, baselines, before, forget target, method, after, relearning, write,
/// audit): a first request, then later ones on the same original, which reuse what the first left in the cache.
struct UnlearnBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unlearn",
        abstract:
            "Time whole `lethe unlearn` runs, wall and by phase: a first request and later ones on the same original.",
        discussion:
            "Give lethe unlearn's arguments after --, without --out or --report: `lethe bench unlearn -- --method neggrad+ --weights original.safetensors --forget-classes 0 --seed 1`."
    )

    @OptionGroup var output: FormatOptions
    @Option(help: "Runs in a row: the first computes what later ones may reuse.") var runs = 2
    @Option(
        help:
            "The cache directory the runs share (default: a new, empty one, so that the first run starts cold; references prepared with lethe audit prepare live in your own cache)."
    )
    var cacheDir: String?
    @Argument(parsing: .postTerminator, help: "lethe unlearn's arguments.") var arguments: [String] = []

    func validate() throws {
        guard (1...20).contains(runs) else { throw ValidationError("--runs must be between 1 and 20") }
        guard !arguments.isEmpty else { throw ValidationError("give lethe unlearn's arguments after --") }
        if let given = arguments.first(where: { ["--out", "--report", "--format"].contains($0) }) {
            throw ValidationError("\(given) is the benchmark's to set; leave it out")
        }
    }

    func run() async throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("lethe-bench-unlearn-\(UUID())")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let cache = cacheDir ?? scratch.appendingPathComponent("cache").path
        var measured: [UnlearnBenchRun] = []
        for index in 1...runs {
            let (out, report) = (
                scratch.appendingPathComponent("out-\(index).safetensors").path,
                scratch.appendingPathComponent("report-\(index).json").path
            )
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
            process.arguments = ["unlearn"] + arguments + ["--out", out, "--report", report, "--format", "json"]
            process.environment = ProcessInfo.processInfo.environment.merging(["LETHE_CACHE_DIR": cache]) { $1 }
            process.standardOutput = FileHandle.nullDevice
            let start = Date()
            try process.run()
            process.waitUntilExit()
            let wall = Date().timeIntervalSince(start)
            guard let data = FileManager.default.contents(atPath: report) else {
                throw ValidationError(
                    "run \(index): lethe unlearn exited \(process.terminationStatus) without a report")
            }
            let written = try JSONDecoder.snakeCase.decode(UnlearningReport.self, from: data)
            measured.append(
                UnlearnBenchRun(
                    wallSeconds: wall, exitStatus: Int(process.terminationStatus),
                    phases: written.timings?.phases ?? [],
                    methodSeconds: written.seconds, reused: written.reused ?? [], outputSha256: written.outputSha256))
            log(String(format: "run %d: %.1f s wall; ", index, wall) + (written.timings?.summary ?? ""))
        }
        let result = UnlearnBenchReport(
            command: (["lethe", "unlearn"] + arguments).joined(separator: " "), cpu: Self.cpuModel, blas: .current,
            threads: Parallel.maxThreads, runs: measured)
        switch output.format {
        case .json: try printJSONLine(result)
        case .text:
            for (index, run) in measured.enumerated() {
                print(
                    String(
                        format: "run %d: %.1f s wall, method %.1f s; ", index + 1, run.wallSeconds, run.methodSeconds)
                        + run.phases.map { String(format: "%@ %.1f s", $0.name, $0.seconds) }.joined(separator: ", "))
            }
        }
    }

    /// The CPU's model name, as /proc/cpuinfo gives it.
    static var cpuModel: String {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let line = cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }
        return line.flatMap { $0.split(separator: ":", maxSplits: 1).last }.map {
            $0.trimmingCharacters(in: .whitespaces)
        } ?? "unknown"
    }
}

struct UnlearnBenchRun: Encodable {
    let wallSeconds: Double
    let exitStatus: Int
    let phases: [RunTimings.Phase]
    let methodSeconds: Double
    let reused: [String]
    let outputSha256: String
}

struct UnlearnBenchReport: Encodable {
    let command: String
    let cpu: String
    let blas: BLASInfo
    let threads: Int
    let runs: [UnlearnBenchRun]
}
