import ArgumentParser
import Coordinator
import Data
import Foundation
import Jobs
import Transport
import Unlearning
import Wire

/// `lethe submit`: the same request as `lethe unlearn`, queued on a coordinator.
struct SubmitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Queue an unlearning job on a coordinator (inputs are uploaded once, by hash); prints the job id.",
        discussion: "With --federated, queues FedAvg training with the coordinator's clients instead: "
            + "`lethe submit --federated --rounds R --local-epochs E --clients N [--model M] [--data D] [--param k=v]` "
            + "(see `lethe submit-federated --help`).")

    @OptionGroup var cluster: ClusterOptions
    @OptionGroup var request: UnlearningRequest
    @OptionGroup var output: FormatOptions

    /// Documents `--job` in `--help`; `JobFile.expand` replaces it with the file's flags before parsing.
    @Option(help: "A YAML job file whose keys are these flags (e.g. `method: scrub`); flags given here win.")
    var job: String?

    func run() async throws {
        let scenario = try request.loadScenario()
        let (weights, reference) = (request.weights, request.reference)
        let jobData = try JobData(scenario, dataOptions: request.dataOptions)
        let references = try references(for: scenario, data: jobData)
        let client = try cluster.connect()
        defer { client.close() }
        let weightsSHA256 = try await client.upload(Data(contentsOf: URL(fileURLWithPath: weights)), kind: "checkpoint")
        let data = try await jobData.upload(with: client)
        var spec = JobSpec(
            method: request.methodChoice.method, params: try request.overrides,
            architecture: try await request.modelOptions.architecture(uploadingWith: client),
            weightsSHA256: weightsSHA256,
            trainSHA256: data.train, testSHA256: data.test,
            scenarioSHA256: try await client.upload(JSONEncoder().encode(ScenarioBundle(scenario)), kind: "scenario"),
            seed: request.seed, shards: request.shards,
            referenceSHA256: try await reference.asyncMap {
                try await client.upload(Data(contentsOf: URL(fileURLWithPath: $0)), kind: "checkpoint")
            }, weightsName: weights, forget: scenario.forgetSet.selection.description)
        (spec.sourceTrainSHA256, spec.sourceTestSHA256) = (data.sourceTrain, data.sourceTest)
        spec.auditSHA256 = try await references.asyncMap { try await upload($0, data: data, with: client) }
        try await submit(spec, with: client, format: output.format)
    }
}

/// `lethe status [JOB]`.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show a job's state and progress (or every job's).")
    @OptionGroup var cluster: ClusterOptions
    @OptionGroup var output: FormatOptions
    @Argument(help: "Job id (default: all jobs).") var job: String?

    func run() async throws {
        let client = try cluster.connect()
        defer { client.close() }
        guard let job else {
            try await JobsCommand.list(client, format: output.format)
            return
        }
        guard case .jobStatus(let status) = try await client.request(.jobQuery(id: job)) else {
            throw ControlError.unexpectedReply
        }
        switch output.format {
        case .json: try printJSON(status)
        case .text: print(status.describe())
        }
    }
}

/// `lethe jobs`.
struct JobsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "jobs", abstract: "List the coordinator's jobs.")
    @OptionGroup var cluster: ClusterOptions
    @OptionGroup var output: FormatOptions

    func run() async throws {
        let client = try cluster.connect()
        defer { client.close() }
        try await Self.list(client, format: output.format)
    }

    static func list(_ client: ControlClient, format: OutputFormat) async throws {
        guard case .jobList(let jobs) = try await client.request(.jobList) else {
            throw ControlError.unexpectedReply
        }
        try printList(
            jobs, format: format, header: "ID          STATE      STEPS        METHOD           FORGET",
            widths: [12, 11, 13, 17]
        ) { [$0.id, $0.state.rawValue, "\($0.stepsDone)/\($0.stepsTotal)", $0.method, $0.forget] }
    }
}

/// `lethe watch JOB`: live progress until the job finishes.
struct WatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch", abstract: "Follow a job's progress per phase until it finishes.")
    @OptionGroup var cluster: ClusterOptions
    @OptionGroup var output: FormatOptions
    @Argument(help: "Job id.") var job: String
    @Option(help: "Seconds between polls.") var interval = 0.5

    func run() async throws {
        let client = try cluster.connect()
        defer { client.close() }
        let bar = ProgressBar()
        var reported: [String: PhaseStatus] = [:]
        var stage = ""
        while true {
            guard case .jobStatus(let status) = try await client.request(.jobQuery(id: job)) else {
                throw ControlError.unexpectedReply
            }
            if output.format == .text, status.stage != stage, !status.stage.isEmpty, status.stage != JobStage.running {
                log("\(job): \(status.stage)")
            }
            stage = status.stage
            for phase in status.phases where reported[phase.name] != phase {
                reported[phase.name] = phase
                if output.format == .json {
                    try printJSON(phase)
                } else {
                    bar.handler(
                        PhaseProgress(
                            phase: phase.name, completed: phase.completed, total: phase.total, loss: phase.lastLoss,
                            stoppedEarly: phase.stoppedEarly))
                }
            }
            if status.isFinished {
                switch output.format {
                case .json: try printJSON(status)
                case .text: print(status.describe())
                }
                if status.state != .succeeded { throw ExitCode.failure }
                return
            }
            try await Task.sleep(for: .seconds(interval))
        }
    }
}

/// `lethe result JOB --out W.safetensors [--report R.json] [--html R.html]`.
struct ResultCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "result", abstract: "Download a finished job's unlearned weights and reports.")
    @OptionGroup var cluster: ClusterOptions
    @OptionGroup var output: FormatOptions
    @Argument(help: "Job id.") var job: String
    @Option(help: "Where to write the unlearned weights (safetensors).") var out: String
    @OptionGroup var reports: ReportFileOptions

    func validate() throws { try checkWritable(out, option: "--out") }

    func run() async throws {
        let client = try cluster.connect()
        defer { client.close() }
        try await Self.fetch(job, from: client, out: out, reports: reports, format: output.format)
    }

    /// Downloads what was asked for and prints the report (JSON) or its summary (text).
    static func fetch(
        _ job: String, from client: ControlClient, out: String?, reports: ReportFileOptions, format: OutputFormat
    ) async throws {
        guard case .jobResult(let outputs) = try await client.request(.jobResultRequest(id: job)) else {
            throw ControlError.unexpectedReply
        }
        if reports.certificate != nil, outputs.certificateSHA256 == nil {
            throw ValidationError(
                "\(job) has no certificate: the coordinator had no signing key (lethe keys init) or the job missed its targets"
            )
        }
        if let out {
            try await client.download(outputs.weightsSHA256).write(to: URL(fileURLWithPath: out), options: .atomic)
        }
        if let path = reports.certificate, let sha256 = outputs.certificateSHA256 {
            try await client.download(sha256).write(to: URL(fileURLWithPath: path), options: .atomic)
        }
        var reportData = try await client.download(outputs.reportSHA256)
        // The coordinator named the weights (and the certificate) after the job; the reports name the files written
        // here.
        let renamed = try out.flatMap {
            try unlearningReport(reportData, writtenTo: $0, certificate: reports.certificate)
        }
        if let renamed { reportData = try JSONEncoder.sorted.encode(renamed) }
        if let report = reports.report { try reportData.write(to: URL(fileURLWithPath: report), options: .atomic) }
        if let html = reports.html {
            var page = renamed.map { Data(HTMLReport.render($0).utf8) }
            if page == nil { page = try await client.download(outputs.htmlSHA256) }
            try page?.write(to: URL(fileURLWithPath: html), options: .atomic)
        }
        switch format {
        case .json: print(String(decoding: reportData, as: UTF8.self))
        case .text: print(try summary(of: reportData))
        }
        // A job kept with `keep-failed`: its outputs are written, and the command fails as the job did.
        if let missed = (try? JSONDecoder.snakeCase.decode(UnlearningReport.self, from: reportData))?.missedTargets {
            throw missed
        }
    }

    /// An unlearning job's report with `out` set to where its weights were written; nil for other reports.
    static func unlearningReport(_ data: Data, writtenTo out: String, certificate: String?) throws
        -> UnlearningReport?
    {
        let decoder = JSONDecoder.snakeCase
        guard (try? decoder.decode(ClientForgettingReport.self, from: data)) == nil,
            (try? decoder.decode(FederatedTrainingReport.self, from: data)) == nil,
            var report = try? decoder.decode(UnlearningReport.self, from: data)
        else { return nil }
        report.out = out
        if let certificate, let digest = report.certificate?.digest {
            report.certificate = CertificateReference(file: certificate, digest: digest)
        }
        return report
    }

    /// The text summary of whichever report a job wrote.
    static func summary(of data: Data) throws -> String {
        let decoder = JSONDecoder.snakeCase
        if let report = try? decoder.decode(ClientForgettingReport.self, from: data) { return report.summary }
        if let report = try? decoder.decode(FederatedTrainingReport.self, from: data) { return report.summary }
        return try decoder.decode(UnlearningReport.self, from: data).summary
    }
}

/// `lethe cancel JOB`.
struct CancelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cancel", abstract: "Cancel a queued or running job.")
    @OptionGroup var cluster: ClusterOptions
    @OptionGroup var output: FormatOptions
    @Argument(help: "Job id.") var job: String

    func run() async throws {
        let client = try cluster.connect()
        defer { client.close() }
        guard case .jobStatus(let status) = try await client.request(.jobCancel(id: job)) else {
            throw ControlError.unexpectedReply
        }
        switch output.format {
        case .json: try printJSON(status)
        case .text: print("\(job): cancel requested (\(status.state))")
        }
    }
}

/// `lethe workers`.
struct WorkersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "workers", abstract: "List the workers and federated clients known to the coordinator.")
    @OptionGroup var cluster: ClusterOptions
    @OptionGroup var output: FormatOptions

    func run() async throws {
        let client = try cluster.connect()
        defer { client.close() }
        guard case .workerList(let workers) = try await client.request(.workerQuery) else {
            throw ControlError.unexpectedReply
        }
        try printList(
            workers, format: output.format,
            header: "NAME                 ROLE    STATE    TASKS   KEY           KERNELS / PARTITION",
            widths: [21, 8, 9, 8, 14]
        ) { worker in
            [
                worker.name, worker.role, worker.state, String(worker.tasksDone), String(worker.key.prefix(12)),
                worker.kernelIdentity + (worker.kernelMatches ? "" : " (differs!)"),
            ]
        }
    }
}

/// Prints `items` as JSON, or as a table: `header`, then a row of cells per item.
func printList<Item: Encodable>(
    _ items: [Item], format: OutputFormat, header: String, widths: [Int], row: (Item) -> [String]
) throws {
    switch format {
    case .json: try printJSON(items)
    case .text:
        print(header)
        for item in items { print(tableRow(row(item), widths: widths)) }
    }
}

/// Cells padded to their column widths (the last cell, without a width, is not padded). A cell is never cut.
func tableRow(_ cells: [String], widths: [Int]) -> String {
    cells.enumerated().map { index, cell in index < widths.count ? padded(cell, to: widths[index]) : cell }.joined()
}

/// `text` followed by spaces up to `width` characters, and by at least one space when it is as long or longer.
func padded(_ text: String, to width: Int) -> String {
    text + String(repeating: " ", count: max(width - text.count, 1))
}

extension JobStatus {
    func describe() -> String {
        let doing = stage.isEmpty || stage == state.rawValue ? "" : " (\(stage))"
        var lines = [
            "\(id) \(state.rawValue)\(doing): \(method) forgetting \(forget), \(stepsDone)/\(stepsTotal) steps"
        ]
        for phase in phases {
            lines.append(
                "  \(phase.name): \(phase.completed)/\(phase.total)" + (phase.stoppedEarly ? ", stopped early" : "")
                    + (phase.lastLoss.map { String(format: ", loss %.4f", $0) } ?? ""))
        }
        if !message.isEmpty { lines.append("  \(message)") }
        return lines.joined(separator: "\n")
    }
}

extension Optional {
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let self else { return nil }
        return try await transform(self)
    }
}
