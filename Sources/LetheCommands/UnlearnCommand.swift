import ArgumentParser
import Checkpoint
import Coordinator
import Data
import Foundation
import Jobs
import NN
import Transport
import Unlearning

struct UnlearnCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unlearn",
        abstract: "Make a trained model forget part of its training data, and report the metrics before and after.",
        discussion:
            "Methods: \(UnlearningMethods.all.map(\.name).joined(separator: ", ")). `lethe methods` lists their parameters."
    )

    @OptionGroup var request: UnlearningRequest
    @OptionGroup var compute: ComputeOptions
    @OptionGroup var output: FormatOptions

    @Option(
        help:
            "Run on N local workers through an embedded coordinator, over the real protocol (same bits as without).")
    var workers: Int?
    @Option(help: "Where to write the unlearned weights (safetensors).") var out: String
    @Option(help: "Write the JSON report here.") var report: String?
    @Option(help: "Write a self-contained HTML report here.") var html: String?
    @Option(
        help:
            "Write a signed certificate of the run here (canonical JSON; `lethe certificate verify` checks it); needs --sign-key."
    )
    var certificate: String?
    @Option(
        help: "The Ed25519 private key that signs --certificate (signing.key from `lethe keys init`, or its directory)."
    )
    var signKey: String?
    @Flag(
        help:
            "Neither reuse nor keep what depends only on the original (its \"before\" verification, SSD's training-set importances) in the cache (lethe audit prepare --help says where)."
    )
    var noCache = false

    func validate() throws {
        guard (certificate == nil) == (signKey == nil) else {
            throw ValidationError("--certificate and --sign-key go together")
        }
        try checkWritable(certificate, option: "--certificate")
        if !noCache { _ = try CacheDirectory().budget() }
        if let workers, !(1...64).contains(workers) { throw ValidationError("--workers must be between 1 and 64") }
        try checkWritable(out, option: "--out")
        try checkWritable(report, option: "--report")
        try checkWritable(html, option: "--html")
    }

    func run() async throws {
        let started = Date()
        compute.apply()
        let (method, parameters) = try request.methodAndParameters()
        let scenario = try request.loadScenario()
        let model = request.modelOptions
        let signingKey = try signKey.map(SigningKey.loadPrivate)
        // The references are checked (and fitted) before any work; the cache's are skipped if they do not fit.
        var references = CacheDirectory().resolve(request.references, weights: request.weights)
        var auditor: ReferenceAuditor?
        do {
            auditor = try references.map {
                try ReferenceAuditor(
                    modelOptions: model, dataOptions: request.dataOptions, forgetOptions: request.forgetOptions,
                    weights: request.weights, original: request.weights, references: $0, seed: request.seed,
                    validationFraction: request.validationFraction)
            }
        } catch  where request.references == nil {
            log("the cached references do not fit this run, so it has no audit: \(error)")
            references = nil
        }
        let run = UnlearningRun(
            method: method, parameters: parameters, scenario: scenario, architecture: model.model,
            weights: request.weights,
            inputSha256: try BlobStore.sha256(contentsOf: URL(fileURLWithPath: request.weights)),
            seed: request.seed, shards: request.shards,
            reference: try request.reference.map { ($0, try model.load(weights: $0)) },
            unseen: try auditor.flatMap { try $0.unseenConfidence(for: scenario) { model.build(seed: 0) } },
            cache: noCache ? nil : try CacheDirectory().runs(), log: { log($0) })
        var timings = RunTimings()
        timings.record("load", seconds: Date().timeIntervalSince(started))
        let progress = ProgressBar()
        var (result, student) = try await run.perform(out: URL(fileURLWithPath: out), outName: out) { plan, state in
            try await execute(plan, state: state, scenario: scenario, progress: progress.handler)
        }
        timings.append(result.timings)
        if let auditor { try timings.measure("audit") { try audit(&result, student: student, with: auditor) } }
        if let certificate, let signingKey {
            try timings.measure("certificate") {
                try certify(&result, scenario: scenario, references: references, key: signingKey, to: certificate)
            }
        }
        result.timings = timings
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
        if let missed = result.missedTargets { throw missed }
    }
}

extension UnlearnCommand {
    /// Audits the unlearned model (with the original and the `--reference` retrain for comparison) and judges the
    /// run by it; a run that now misses its targets keeps no model unless asked to.
    func audit(_ result: inout UnlearningReport, student: Model, with auditor: ReferenceAuditor) throws {
        let retrain = try request.reference.map { ($0, try request.modelOptions.load(weights: $0)) }
        let passedBefore = result.missedTargets == nil
        result.judge(by: try auditor.verdict(of: student, out: out, original: request.weights, retrain: retrain))
        if passedBefore, result.missedTargets != nil, !request.keepFailed {
            try? FileManager.default.removeItem(atPath: out)
        }
    }

    /// Runs the plan in this process, or with `--workers N` on an embedded coordinator and N workers.
    func execute(_ plan: Plan, state: PlanState, scenario: Scenario, progress: ProgressHandler?) async throws
        -> (phases: [PhaseLog], touched: Set<Int>, earlierSeconds: Double)
    {
        guard let workers else {
            let executor = LocalExecutor(
                dataset: scenario.train, shards: request.shards, original: scenario.model,
                architecture: request.modelOptions.build(seed:))
            let phases = try PlanRunner(executor: executor, progress: progress).run(plan, state: state)
            return (phases, executor.touchedSamples, 0)
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lethe-embedded-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let cluster = try EmbeddedCluster(
            workers: workers, directory: directory,
            threads: EmbeddedCluster.threadsPerWorker(workers: workers, shards: request.shards),
            logger: LogOptions.standardError("workers"))
        defer { cluster.stop() }
        log("running on \(workers) local worker(s) over the wire protocol")
        return try await UnlearningRun.onWorkers(
            cluster.pool, job: "local", shards: request.shards,
            datasetSHA256: try cluster.put(scenario.train),
            labels: scenario.train.labels,
            originalSHA256: try cluster.blobs.put(contentsOf: URL(fileURLWithPath: request.weights)),
            architecture: request.modelOptions.model, progress: progress)(plan, state)
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
                        parameters: method.allParameters.map {
                            ["key": $0.key, "default": $0.defaultValue, "help": $0.help, "domain": "\($0.domain)"]
                        })
                })
        case .text:
            for method in UnlearningMethods.all {
                print("\(method.name)\n  \(method.summary)")
                method.parameters.forEach(Self.printDeclaration)
            }
            print(
                """

                Every run is checked afterwards: forget accuracy at most the forget target (5% for classes; for \
                samples, held-out accuracy on samples like them plus sampling noise; stop-accuracy fixes it), retain \
                and test accuracy within max-retain-drop and max-test-drop of the original. A miss exits 1 and \
                writes no model unless keep-failed=true (--keep-failed). Every method takes (its own declaration wins):
                """)
            Acceptance.declarations.forEach(Self.printDeclaration)
        }
    }
}

extension MethodsCommand {
    static func printDeclaration(_ parameter: MethodParameters.Declaration) {
        let domain = parameter.domain == .unconstrained ? "" : " (\(parameter.domain))"
        print(padded("    \(parameter.key)=\(parameter.defaultValue)", to: 32) + parameter.help + domain)
    }
}

struct MethodDescription: Encodable {
    let name: String
    let summary: String
    let parameters: [[String: String]]
}
