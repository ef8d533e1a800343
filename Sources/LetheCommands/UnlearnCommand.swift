import ArgumentParser
import Checkpoint
import Cluster
import Data
import Foundation
import NN
import Unlearning

struct UnlearnCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unlearn",
        abstract: "Make a trained model forget part of its training data, and report the metrics before and after.",
        discussion:
            "Methods: \(UnlearningMethods.all.map(\.name).joined(separator: ", ")). `lethe methods` lists their parameters."
    )

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var dataOptions: DataOptions
    @OptionGroup var forgetOptions: ForgetOptions
    @OptionGroup var compute: ComputeOptions
    @OptionGroup var output: FormatOptions

    @Option(help: "Unlearning method (see `lethe methods`).") var method: String
    @Option(help: "The trained model to unlearn from (safetensors).") var weights: String
    @Option(name: .customLong("param"), help: "A method parameter, key=value (repeatable).") var params: [String] = []
    @Option(help: "Seed for the method's random choices, the forget fraction and the metrics.") var seed: UInt64 = 1
    @Option(help: "Logical shards per minibatch (changes the bits of the result, not who computes them).")
    var shards = 1
    @Option(
        help:
            "Run on N local workers through an embedded coordinator, over the real protocol (same bits as without).")
    var workers: Int?
    @Option(help: "A reference checkpoint (e.g. retrained without the forget set) to compare outputs with.")
    var reference: String?
    @Option(help: "Validation fraction for checkpoints that do not record their split (e.g. from PyTorch).")
    var validationFraction: Double?
    @Option(help: "Where to write the unlearned weights (safetensors).") var out: String
    @Option(help: "Write the JSON report here.") var report: String?
    @Option(help: "Write a self-contained HTML report here.") var html: String?

    func validate() throws {
        guard UnlearningMethods.named(method) != nil else {
            throw ValidationError(
                "unknown method '\(method)'; choose one of \(UnlearningMethods.all.map(\.name).joined(separator: ", "))"
            )
        }
        if shards < 1 { throw ValidationError("--shards must be at least 1") }
        if let workers, workers < 1 { throw ValidationError("--workers must be at least 1") }
    }

    func run() async throws {
        compute.apply()
        let method = UnlearningMethods.named(method)!
        let parameters = try MethodParameters(method.parameters, overrides: MethodParameters.parseOverrides(params))
        let scenario = try Scenario.load(
            modelOptions: modelOptions, dataOptions: dataOptions, forgetOptions: forgetOptions, weights: weights,
            seed: seed, validationFraction: validationFraction)
        let run = UnlearningRun(
            method: method, parameters: parameters, scenario: scenario, architecture: modelOptions.model,
            weights: weights, inputSha256: try FileDigest.sha256(of: URL(fileURLWithPath: weights)), seed: seed,
            shards: shards, reference: try reference.map { ($0, try modelOptions.load(weights: $0)) })
        let progress = ProgressBar()
        let (result, _) = try await run.perform(out: URL(fileURLWithPath: out), outName: out) { plan, state in
            try await execute(plan, state: state, scenario: scenario, progress: progress.handler)
        }
        if let report {
            try JSONEncoder.sorted.encode(result).write(to: URL(fileURLWithPath: report), options: .atomic)
        }
        if let html {
            try Data(HTMLReport.render(result).utf8).write(to: URL(fileURLWithPath: html), options: .atomic)
        }
        switch output.format {
        case .json: try printJSON(result)
        case .text: print(result.summary)
        }
    }
}

extension UnlearnCommand {
    /// Runs the plan in this process, or with `--workers N` on an embedded coordinator and N workers.
    func execute(_ plan: Plan, state: PlanState, scenario: Scenario, progress: ProgressHandler?) async throws
        -> (phases: [PhaseLog], touched: Set<Int>)
    {
        guard let workers else {
            let executor = LocalExecutor(
                dataset: scenario.train, shards: shards, original: scenario.model,
                architecture: modelOptions.build(seed:))
            let phases = try PlanRunner(executor: executor, progress: progress).run(plan, state: state)
            return (phases, executor.touchedSamples)
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lethe-embedded-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let cluster = try EmbeddedCluster(workers: workers, directory: directory) { log($0) }
        defer { cluster.stop() }
        log("running on \(workers) local worker(s) over the wire protocol")
        return try await UnlearningRun.onWorkers(
            cluster.pool, job: "local", shards: shards,
            datasetSHA256: try cluster.blobs.put(DatasetBlob.encode(scenario.train)), labels: scenario.train.labels,
            originalSHA256: try cluster.blobs.put(contentsOf: URL(fileURLWithPath: weights)),
            architecture: modelOptions.model, progress: progress)(plan, state)
    }
}

/// Lists the methods and their parameters.
struct MethodsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "methods", abstract: "List the unlearning methods and their parameters (with defaults).")

    @OptionGroup var output: FormatOptions

    func run() throws {
        switch output.format {
        case .json:
            try printJSON(
                UnlearningMethods.all.map { method in
                    MethodDescription(
                        name: method.name, summary: method.summary,
                        parameters: method.parameters.map {
                            ["key": $0.key, "default": $0.defaultValue, "help": $0.help]
                        })
                })
        case .text:
            for method in UnlearningMethods.all {
                print("\(method.name)\n  \(method.summary)")
                for parameter in method.parameters {
                    print(
                        "    \(parameter.key)=\(parameter.defaultValue)".padding(
                            toLength: 32, withPad: " ", startingAt: 0) + parameter.help)
                }
            }
        }
    }
}

struct MethodDescription: Encodable {
    let name: String
    let summary: String
    let parameters: [[String: String]]
}
