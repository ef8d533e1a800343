import ArgumentParser
import Checkpoint
import Coordinator
import Crypto
import Data
import Foundation
import Jobs
import Logging
import NN
import ServiceLifecycle
import Synchronization
import Tensor
import Transport
import Unlearning
import Wire
import Worker
import ZeroMQ

/// `lethe coordinator`: the daemon that keeps jobs and runs them on workers.
struct CoordinatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coordinator",
        abstract: "Run the coordinator: queue jobs, hand their shards to workers, keep state in --state-dir.")

    @Option(help: "Endpoint workers connect to: tcp://HOST:PORT, HOST:PORT or ipc://PATH.") var bind =
        "tcp://0.0.0.0:7700"
    @Option(help: "Endpoint the CLI (submit, status, …) connects to.") var control = "tcp://127.0.0.1:7701"
    @Option(help: "State directory (SQLite database and blob store); created if missing.") var stateDir: String
    @Option(help: "Key directory (`lethe keys init`), default $LETHE_KEYS.") var keys: String?
    @Flag(help: "Plaintext without authentication (only sensible on loopback).") var insecure = false
    @Option(help: "Milliseconds between heartbeats.") var heartbeatMs = 1000
    @Option(help: "Longest time in seconds between two persisted snapshots of a running job.")
    var checkpointSeconds = 10.0
    @Flag(help: "Also give tasks to workers whose BLAS kernels differ (results then differ in low bits).")
    var allowMixedKernels = false
    @Option(help: "Jobs that run at once, sharing the workers and clients (each job's result is the same).")
    var maxJobs = 1
    @Option(help: "How much STATE_DIR/cache (originals' predictions, reusable phases) may hold, e.g. 500M or 2G.")
    var cacheMaxSize = ByteSize(bytes: CacheBudget.defaultMaxBytes)
    @Option(
        help:
            "Parts a step's weights and gradients travel in, so that workers compute while they do, e.g. 256K (0: whole)."
    )
    var partSize = ByteSize(bytes: Int64(WorkerPool.Settings.defaultPartBytes))
    @OptionGroup var logging: LogOptions

    func validate() throws {
        guard partSize.bytes <= 1 << 30 else { throw ValidationError("--part-size must be at most 1G (0: whole)") }
        guard (1...64).contains(maxJobs) else { throw ValidationError("--max-jobs must be between 1 and 64") }
        guard (10...60_000).contains(heartbeatMs) else {
            throw ValidationError("--heartbeat-ms must be between 10 and 60000")
        }
        guard checkpointSeconds >= 0 else { throw ValidationError("--checkpoint-seconds must be ≥ 0") }
        _ = try parseEndpoint(bind, given: "--bind")
        _ = try parseEndpoint(control, given: "--control")
    }

    /// The key directory's `signing.key`, which signs the audit chain; without one the chain is only hashed.
    private func auditSigningKey(_ logger: Logger) throws -> Curve25519.Signing.PrivateKey? {
        let directory = keys ?? ProcessInfo.processInfo.environment["LETHE_KEYS"]
        guard !insecure, let directory else { return nil }
        let path = URL(fileURLWithPath: directory).appendingPathComponent(SigningKey.privateFile).path
        guard FileManager.default.fileExists(atPath: path) else {
            logger.warning("no \(path): the audit log is hash-chained but not signed (lethe keys init makes one)")
            return nil
        }
        return try SigningKey.loadPrivate(path)
    }

    func run() async throws {
        let (bind, control) = (try parseEndpoint(bind, given: "--bind"), try parseEndpoint(control, given: "--control"))
        let logger = logging.logger("coordinator")
        let state = try StateDirectory(stateDir, signingKey: try auditSigningKey(logger))
        // Every step sends the weights to each worker and takes a gradient back from each, through CURVE.
        let workerContext = try ZeroMQContext(ioThreads: ProcessInfo.processInfo.activeProcessorCount)
        let controlContext = try ZeroMQContext()
        var guards: [AllowlistGuard] = []
        if !insecure {
            // One ZAP handler per context: workers and users have separate allowlists.
            let directory = KeyDirectory(keys ?? ProcessInfo.processInfo.environment["LETHE_KEYS"] ?? "")
            let audit: @Sendable (Refusal) -> Void = { state.audit($0) }
            guards.append(
                try AllowlistGuard(
                    context: workerContext, directory: directory, list: .workers, logger: logger, audit: audit))
            guards.append(
                try AllowlistGuard(
                    context: controlContext, directory: directory, list: .users, logger: logger, audit: audit))
        }
        let serverSecurity = try security(role: .coordinator, insecure: insecure, keys: keys)
        warnIfExposed(bind, insecure: insecure)
        warnIfExposed(control, insecure: insecure)
        let workers = try ZeroMQTransport.server(workerContext, bind: bind.description, security: serverSecurity)
        let controlTransport = try ZeroMQTransport.server(
            controlContext, bind: control.description, security: serverSecurity)
        var settings = WorkerPool.Settings(kernelIdentity: BLAS.kernelIdentity)
        settings.heartbeatMilliseconds = heartbeatMs
        settings.allowMixedKernels = allowMixedKernels
        settings.gradientPartBytes = Int(partSize.bytes)
        settings.weightPartBytes = Int(partSize.bytes)
        let coordinator = Coordinator(
            state: state, workers: workers, control: controlTransport, settings: settings,
            checkpointSeconds: checkpointSeconds, maxConcurrentJobs: maxJobs,
            cacheBudget: CacheBudget(maxBytes: cacheMaxSize.bytes), logger: logger)
        logger.info(
            "workers on \(workers.endpoint), control on \(controlTransport.endpoint), state in \(stateDir)")
        try await runUntilSignalled([coordinator, AllowlistReloader(guards: guards)], logger: logger)
    }
}

/// Runs `services` until SIGTERM or SIGINT asks them to stop gracefully (each then finishes what it must).
func runUntilSignalled(_ services: [any Service], logger: Logger) async throws {
    let group = ServiceGroup(
        configuration: ServiceGroupConfiguration(
            services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
    try await group.run()
}

/// Reloads the allowlists every two seconds, so that revocations apply to new connections within seconds.
struct AllowlistReloader: Service {
    let guards: [AllowlistGuard]

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(for: .seconds(2))
                for allowlist in guards { allowlist.reloadIfChanged() }
            }
        }
    }
}

/// A ZAP handler whose allowlist follows its file (revocations apply to new connections within seconds).
final class AllowlistGuard: Sendable {
    let handler: ZAPHandler
    let directory: KeyDirectory
    let list: KeyDirectory.Allowlist
    /// The keys the handler allows now.
    private let keys = Mutex(Set<String>())

    /// `audit` gets every refused connection (the coordinator's state directory rate-limits and keeps them).
    init(
        context: ZeroMQContext, directory: KeyDirectory, list: KeyDirectory.Allowlist,
        logger: Logger = Logger(label: "lethe.allowlist", factory: SwiftLogNoOpLogHandler.init),
        audit: @escaping @Sendable (Refusal) -> Void = { _ in }
    ) throws {
        handler = try ZAPHandler(context: context) { reason, key in
            logger.warning(
                "refused a \(list == .workers ? "worker" : "user") connection (\(reason))\(key.map { ": key \($0)" } ?? "")"
            )
            audit(
                Refusal(
                    key: key ?? "no key", endpoint: list == .workers ? "workers" : "control", reason: "connection",
                    message: reason))
        }
        self.directory = directory
        self.list = list
        reloadIfChanged()
    }

    func reloadIfChanged() {
        keys.withLock { keys in
            guard let current = try? directory.allowed(list), current != keys else { return }
            for key in current.subtracting(keys) { try? handler.allow(key) }
            for key in keys.subtracting(current) { handler.revoke(key) }
            keys = current
        }
    }
}

/// `lethe worker`: computes shards for a coordinator.
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker", abstract: "Run a worker: compute shard gradients and evaluations for a coordinator.")

    @OptionGroup var connection: CoordinatorEndpointOptions
    @Option(help: "Key directory (`lethe keys init`), default $LETHE_KEYS; uses its worker key.") var keys: String?
    @Option(help: "Name shown by `lethe workers` (default: host name and process id).") var name: String?
    @Option(help: "Where downloaded datasets and checkpoints are cached (by hash).") var cacheDir: String?
    @Option(help: "How much the cache may hold, e.g. 500M or 20G (least recently used blobs go first).")
    var cacheMaxSize = ByteSize(bytes: 8 << 30)
    @OptionGroup var compute: ComputeOptions
    @OptionGroup var logging: LogOptions

    func run() async throws {
        compute.apply()
        let transport = try connection.connect(keys: keys)
        let cache =
            cacheDir.map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("lethe-worker-cache")
        let workerName = name ?? "\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)"
        let logger = logging.logger(workerName)
        let node = WorkerNode(
            transport: transport, blobs: try BlobStore(directory: cache),
            hello: Hello(
                name: workerName, kernelIdentity: BLAS.kernelIdentity, threads: Parallel.maxThreads,
                softwareVersion: LetheCommand.version), cacheMaxBytes: cacheMaxSize.bytes, logger: logger)
        logger.info("connecting to \(connection.coordinator), cache \(cache.path)")
        try await runUntilSignalled([node], logger: logger)
    }
}
