import ArgumentParser
import Checkpoint
import Coordinator
import Data
import Foundation
import Jobs
import NN
import Transport
import Unlearning
import Wire

/// `lethe submit --federated`: queue FedAvg training with the coordinator's clients. (`lethe submit --federated …`
/// is routed here before parsing, since an unlearning submission's required flags do not apply.)
struct FederatedSubmitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit-federated",
        abstract: "Queue federated (FedAvg) training with the clients connected to a coordinator; prints the job id.",
        discussion: "Also reachable as `lethe submit --federated`. Clients keep their data; the coordinator keeps "
            + "one contribution ledger per client key so `lethe forget-client` can remove one later.",
        shouldDisplay: false)

    @OptionGroup var cluster: ClusterOptions
    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var dataOptions: DataOptions
    @OptionGroup var output: FormatOptions
    @Option(help: "FedAvg rounds.") var rounds = 10
    @Option(help: "Local epochs per round.") var localEpochs = 1
    @Option(help: "Clients that must be online before the first round.") var clients = 2
    @Option(help: "Initial weights (safetensors); default: the architecture's seeded initialisation.")
    var weights: String?
    @Option(name: .customLong("param"), help: "A training setting, key=value (repeatable; see below).")
    var params: [String] = []
    @Option(help: "Seed of the initialisation, client selection and local training.") var seed: UInt64 = 1

    static let settingsHelp = FederatedSettings.declarations.map {
        "\($0.key) (default \($0.defaultValue.isEmpty ? "none" : $0.defaultValue)): \($0.help)"
    }

    func validate() throws {
        _ = try settings()
    }

    func settings() throws -> [String: String] {
        var values = try MethodParameters.parseOverrides(params)
        values["rounds"] = String(rounds)
        values["local-epochs"] = String(localEpochs)
        values["clients"] = String(clients)
        _ = try FederatedSettings(values)
        return values
    }

    /// The initial model, the preprocessing the clients' data must get, and what the job's checkpoints record of it
    /// (as `lethe train` records it), so that `lethe eval` of the federated model preprocesses the same way.
    func initialModel() throws -> (model: Model, preprocessing: Preprocessing, record: [String: String]) {
        guard let weights else {
            let training = try Preprocessing.training(option: dataOptions.normalization, data: dataOptions.data)
            return (modelOptions.build(seed: seed), training.preprocessing, training.metadata)
        }
        let (model, metadata) = try modelOptions.loadWithMetadata(weights: weights)
        let preprocessing = try dataOptions.preprocessing(for: metadata, weights: weights)
        let recorded = metadata.filter { $0.key == Preprocessing.metadataKey }
        return (model, preprocessing, recorded.merging(preprocessing.derivedMetadata) { $1 })
    }

    func run() async throws {
        let (model, preprocessing, record) = try initialModel()
        let test = try dataOptions.load(.test, preprocessing)
        guard model.inputShape == test.imageShape, model.classCount == test.classCount else {
            throw ValidationError(
                "\(modelOptions.model) takes \(model.inputShape) inputs and \(model.classCount) classes; \(dataOptions.data) has \(test.imageShape) images of \(test.classCount) classes"
            )
        }
        let initial = FileManager.default.temporaryDirectory.appendingPathComponent(
            "lethe-initial-\(UUID()).safetensors")
        defer { try? FileManager.default.removeItem(at: initial) }
        try ModelCheckpoint.save(model, to: initial, metadata: record.merging(["lethe.seed": String(seed)]) { $1 })
        let client = try cluster.connect()
        defer { client.close() }
        var spec = JobSpec(
            method: "fedavg", params: try settings(),
            architecture: try await modelOptions.architecture(uploadingWith: client),
            weightsSHA256: try await client.upload(Data(contentsOf: initial), kind: "checkpoint"), trainSHA256: "",
            testSHA256: try await client.upload(DatasetBlob.encode(test), kind: "dataset"), scenarioSHA256: "",
            seed: seed, shards: 1, referenceSHA256: nil, weightsName: weights ?? "seeded initialisation",
            forget: "nothing (federated training on \(dataOptions.data))")
        spec.kind = JobKind.federated
        try await submit(spec, with: client, format: output.format)
    }

    /// `lethe submit --federated …` → `lethe submit-federated …`.
    static func route(_ arguments: [String]) -> [String] {
        guard arguments.first == "submit", arguments.contains("--federated") else { return arguments }
        return ["submit-federated"] + arguments.dropFirst().filter { $0 != "--federated" }
    }
}

/// `lethe forget-client JOB --client KEY|NAME --method conda`: forgets one client of a finished federated job on
/// the coordinator, waits for it and prints before/after metrics (writes weights and reports when asked).
struct ForgetClientCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forget-client",
        abstract: "Forget one client of a federated job (conda needs no client data), then verify and report.",
        discussion: "Methods: " + ForgettingSettings.methods.joined(separator: ", ") + ". Parameters: "
            + ForgettingSettings.declarations.map {
                "\($0.key) (\($0.defaultValue.isEmpty ? "none" : $0.defaultValue)): \($0.help)"
            }
            .joined(separator: "; "))

    @OptionGroup var cluster: ClusterOptions
    @OptionGroup var output: FormatOptions
    @Argument(help: "The federated training job.") var job: String
    @Option(help: "The client to forget: its key or its name.") var client: String
    @Option(help: "conda, retrain, neggrad or pga.") var method = "conda"
    @Option(name: .customLong("param"), help: "A method parameter, key=value (repeatable).") var params: [String] = []
    @Option(help: "FedAvg rounds with the remaining clients afterwards.") var repairRounds: Int?
    @Option(help: "Write the weights after forgetting here (safetensors).") var out: String?
    @OptionGroup var reports: ReportFileOptions
    @Flag(help: "Print the job id and return without waiting.") var detach = false

    func settings() throws -> [String: String] {
        var values = try MethodParameters.parseOverrides(params)
        if let repairRounds { values["repair-rounds"] = String(repairRounds) }
        _ = try ForgettingSettings(method: method, params: values)
        return values
    }

    func validate() throws {
        _ = try settings()
        try checkWritable(out, option: "--out")
    }

    func run() async throws {
        let connection = try cluster.connect()
        defer { connection.close() }
        var spec = JobSpec(
            method: method, params: try settings(), architecture: "", weightsSHA256: "", trainSHA256: "",
            testSHA256: "", scenarioSHA256: "", seed: 0, shards: 1, referenceSHA256: nil, weightsName: "",
            forget: "client \(client)")
        spec.kind = JobKind.forgetClient
        spec.sourceJob = job
        spec.client = client
        guard case .jobAccepted(let id) = try await connection.request(.jobSubmit(spec)) else {
            throw ControlError.unexpectedReply
        }
        if detach {
            try printID(id, format: output.format)
            return
        }
        log("\(id): forgetting \(client) of \(job) with \(method)")
        let status = try await finished(id, on: connection)
        guard status.state == .succeeded else { throw ValidationError("\(id) \(status.state): \(status.message)") }
        try await ResultCommand.fetch(id, from: connection, out: out, reports: reports, format: output.format)
    }
}

/// Submits a job and prints its id.
func submit(_ spec: JobSpec, with client: ControlClient, format: OutputFormat) async throws {
    guard case .jobAccepted(let id) = try await client.request(.jobSubmit(spec)) else {
        throw ControlError.unexpectedReply
    }
    try printID(id, format: format)
}

/// Waits until a job has finished (succeeded, failed or cancelled); returns its last status.
func finished(_ id: String, on client: ControlClient) async throws -> JobStatus {
    while true {
        guard case .jobStatus(let status) = try await client.request(.jobQuery(id: id)) else {
            throw ControlError.unexpectedReply
        }
        if status.isFinished { return status }
        try await Task.sleep(for: .milliseconds(300))
    }
}

func printID(_ id: String, format: OutputFormat) throws {
    switch format {
    case .json: try printJSON(["id": id])
    case .text: print(id)
    }
}
