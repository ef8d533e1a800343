import Coordinator
import Data
import Foundation
import Jobs
import Logging
import Tensor
import Transport
import Wire
import Worker
import ZeroMQ

/// A coordinator's worker pool with `count` workers in this process, speaking the real protocol over ZeroMQ
/// inproc sockets (`lethe unlearn --workers N`): one machine, no set-up, the same code paths as a deployment.
public final class EmbeddedCluster {
    public let pool: WorkerPool
    public let blobs: BlobStore
    private let context: ZeroMQContext
    private let server: ZeroMQTransport
    private let clients: [ZeroMQTransport]
    private let nodes: [WorkerNode]
    private let runs: [Task<Void, Never>]
    private let processes: [Process]

    /// Blobs live under `directory`: the coordinator's store, which the workers in this process share (the
    /// job's dataset, ~190 MB for FashionMNIST, is then written once instead of being copied to a cache per
    /// worker), and one cache per worker process. `endpoint` defaults to a fresh inproc name;
    /// `tcp://127.0.0.1:*` puts the workers behind real loopback sockets. With `asProcesses`, the workers are
    /// `lethe worker` processes (of this executable, with `threads` each), which fetch blobs as a deployment's do;
    /// workers in this process compute on all its threads, or with `threads` 1 each on its own thread alone.
    public init(
        workers count: Int, directory: URL, endpoint: String? = nil, asProcesses: Bool = false, threads: Int? = nil,
        logger: Logger = Logger(label: "lethe.embedded", factory: SwiftLogNoOpLogHandler.init)
    ) throws {
        precondition(count >= 1, "an embedded cluster needs a worker")
        context = try ZeroMQContext()
        // Not flushed to disk: the store lives as long as the run (its callers delete the directory after it).
        blobs = try BlobStore(directory: directory.appendingPathComponent("coordinator"), durable: false)
        server = try .server(context, bind: endpoint ?? "inproc://lethe-coordinator-\(UUID())", security: .insecure)
        pool = WorkerPool(
            transport: server, blobs: blobs, settings: WorkerPool.Settings(kernelIdentity: BLAS.kernelIdentity),
            logger: logger)
        pool.start()
        var clients: [ZeroMQTransport] = []
        var nodes: [WorkerNode] = []
        var runs: [Task<Void, Never>] = []
        let endpoint = server.endpoint
        processes =
            asProcesses
            ? try (0..<count).map {
                try Self.startWorkerProcess(
                    $0, endpoint: endpoint, cache: directory.appendingPathComponent("worker-\($0)"), threads: threads)
            } : []
        for index in 0..<(asProcesses ? 0 : count) {
            let client = try ZeroMQTransport.client(context, connect: server.endpoint, security: .insecure)
            let node = WorkerNode(
                transport: client, blobs: blobs,
                hello: Hello(
                    name: "local-\(index)", kernelIdentity: BLAS.kernelIdentity,
                    threads: threads ?? Parallel.maxThreads,
                    softwareVersion: WireProtocol.versionTag), logger: logger)
            clients.append(client)
            nodes.append(node)
            runs.append(Task { await node.run() })
        }
        self.clients = clients
        self.nodes = nodes
        self.runs = runs
    }

    /// Puts `dataset`'s blob in the coordinator's store and returns its hash; the workers in this process take
    /// the dataset as it is instead of each decoding the blob at its first task (worker processes fetch it).
    public func put(_ dataset: Dataset) throws -> String {
        let sha256 = try blobs.put { try DatasetBlob.stream(dataset, $0) }
        for node in nodes { node.adopt(dataset, sha256: sha256) }
        return sha256
    }

    /// Threads for each of `workers` workers in this process that run `shards` shards a step: one when they keep
    /// every core busy side by side (each spreading over all the cores would only make them queue for them),
    /// else all (nil).
    public static func threadsPerWorker(workers: Int, shards: Int) -> Int? {
        min(workers, shards) >= Parallel.maxThreads ? 1 : nil
    }

    /// `lethe worker` number `index`, connected to `endpoint` (loopback, so without keys); its output is dropped.
    private static func startWorkerProcess(_ index: Int, endpoint: String, cache: URL, threads: Int?) throws
        -> Process
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        process.arguments =
            [
                "worker", "--coordinator", endpoint, "--insecure", "--name", "bench-\(index)", "--cache-dir",
                cache.path,
            ] + (threads.map { ["--threads", String($0)] } ?? [])
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    public func stop() {
        for process in processes where process.isRunning { process.terminate() }
        processes.forEach { $0.waitUntilExit() }
        pool.stop()
        runs.forEach { $0.cancel() }
        clients.forEach { $0.close() }
        server.close()
    }
}
