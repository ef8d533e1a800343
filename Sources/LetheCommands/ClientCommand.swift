import ArgumentParser
import Coordinator
import Data
import Federated
import Foundation
import Jobs
import Logging
import NN
import Tensor
import Transport
import Wire
import Worker
import ZeroMQ

/// `lethe client`: a federated client daemon that owns one partition of a dataset and trains on it when the
/// coordinator asks. Its samples never leave it; only weights, counts and a sample of losses do.
struct ClientCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "client",
        abstract: "Run a federated client: hold one partition of a dataset and train locally for a coordinator.")

    @OptionGroup var connection: CoordinatorEndpointOptions
    @Option(help: "Key directory; uses the client's own key (`lethe keys add-client --keys DIR NAME`).")
    var keys: String?
    @Option(help: "The client's name (and key name); default client-K.") var name: String?
    @OptionGroup var dataOptions: DataOptions
    @Option(help: "This client's partition K/N: the K-th (1-based) of N partitions of the training set.")
    var partition: String
    @Option(help: "How the training set is split among the N clients: iid or dirichlet:ALPHA.") var split = "iid"
    @Option(help: "Seed of the split (the same on every client) and of the backdoor.") var seed: UInt64 = 1
    @Option(help: "Poison this partition with triggered copies, e.g. fraction:0.1,target:0,patch:3.")
    var backdoor: String?
    @Option(
        name: .customLong("model"),
        help: "A .onnx graph this client may be asked to train (federated jobs name it by content); repeatable.")
    var graphs: [String] = []
    @OptionGroup var compute: ComputeOptions
    @OptionGroup var logging: LogOptions

    func run() async throws {
        compute.apply()
        let (index, count) = try parsePartition()
        let scheme = try PartitionScheme(parsing: split)
        let poison = try backdoor.map { try Backdoor(parsing: $0) }
        for graph in graphs { _ = try ONNXModelFile.load(graph) }  // remembered by hash for the rounds' `onnx:…`
        let train = try DatasetLoader.load(dataOptions.data, split: .train, normalization: dataOptions.normalization)
        let parts = try Partition.split(
            labels: train.labels, classCount: train.classCount, clients: count, scheme: scheme, seed: seed)
        var data = train.subset(indices: parts[index - 1])
        if let poison { data = try poison.poisoned(data, seed: seed &+ UInt64(index)) }
        let clientName = name ?? "client-\(index)"
        let logger = logging.logger(clientName)
        let description =
            "\(index)/\(count) \(scheme) seed \(seed)" + (poison.map { " backdoor \($0)" } ?? "")
        let transport = try connection.connect(keys: keys, client: clientName)
        let node = ClientNode(
            transport: transport, computer: ClientComputer(data: data),
            hello: Hello(
                name: clientName, kernelIdentity: BLAS.kernelIdentity, threads: Parallel.maxThreads,
                softwareVersion: LetheCommand.version, role: .client, classCounts: data.classCounts,
                partition: description), logger: logger)
        logger.info(
            "\(data.count) samples (\(description)), connecting to \(connection.coordinator)")
        try await runUntilSignalled([node], logger: logger)
    }

    private func parsePartition() throws -> (Int, Int) {
        let parts = partition.split(separator: "/").compactMap { Int($0) }
        guard parts.count == 2, parts[1] >= 1, (1...parts[1]).contains(parts[0]) else {
            throw ValidationError("--partition expects K/N with 1 ≤ K ≤ N, like 3/10 (got '\(partition)')")
        }
        return (parts[0], parts[1])
    }
}
