import Crypto
import Foundation
import Jobs
import Logging
import NN
import ServiceLifecycle
import Synchronization
import Transport
import Unlearning
import Wire
import ZeroMQ

/// The coordinator daemon's logic, over any transport (DESIGN §5–6): a worker pool on one transport, the CLI's
/// requests on another, jobs queued in the state directory and run by `runner` (`CoordinatorJobs.run`; tests
/// inject others), up to `maxConcurrentJobs` at a time in submission order. Every request is audited with the key
/// it authenticated with. As a `Service` it runs until a graceful shutdown (SIGTERM), then persists what is
/// running and stops; a restart on the same state directory resumes it with the same bits.
public final class Coordinator: Sendable {
    /// What a running job may use.
    public struct JobEnvironment: Sendable {
        public let pool: WorkerPool
        public let blobs: BlobStore
        /// Reports a phase's progress (for `lethe status` and `lethe watch`).
        public let progress: @Sendable (PhaseStatus) -> Void
        /// Reports what the job is doing (`JobStage`) and its plan's steps, known before the first one runs.
        public let stage: @Sendable (_ stage: String, _ totalSteps: Int) -> Void
        /// The job's latest persisted snapshot: a job resumed after a restart continues from it.
        public let snapshot: PlanSnapshot?
        /// Call at every barrier; persists the snapshot `make` builds when one is due (at phase ends, at least
        /// every `checkpointSeconds`, and at once when the coordinator is shutting down).
        public let persist: @Sendable (_ phaseEnded: Bool, _ make: () -> PlanSnapshot) -> Void
        /// Federated jobs: the clients, the latest persisted federation state, and where to persist it.
        public let clients: ClientRoster
        public let federation: FederationState?
        public let persistFederation: @Sendable (FederationState) -> Void
        /// The coordinator's logger with the job's id as metadata, for what the job says as it runs.
        public let logger: Logger
        /// What jobs on the same original keep for later ones (the state directory's `cache/`).
        public let cache: RunCache
        /// The coordinator's signing key (`keys/signing.key`), raw (the key type is not Sendable).
        let signingKeyBytes: Data?
        /// A job that passes gets a certificate signed with it.
        public var signingKey: Curve25519.Signing.PrivateKey? {
            try? signingKeyBytes.map(Curve25519.Signing.PrivateKey.init(rawRepresentation:))
        }
        public var log: @Sendable (String) -> Void { { [logger] in logger.info("\($0)") } }
    }

    public typealias JobRunner = @Sendable (StoredJob, JobEnvironment) async throws -> JobOutputs

    public let state: StateDirectory
    public let pool: WorkerPool
    public let clients: ClientRoster
    private let endpoint: RoleSwitch
    let control: Transport
    private let runner: JobRunner
    let logger: Logger
    /// Longest time between two persisted snapshots of a running job.
    private let checkpointSeconds: Double
    /// Jobs that run at once (they share the workers and clients; each job's bits do not depend on it).
    private let maxConcurrentJobs: Int
    /// How much the state directory's `cache/` may hold (least recently used entries go first).
    private let cacheBudget: CacheBudget
    private let board = Mutex(Board())

    /// What the coordinator keeps of its running jobs and its own tasks (behind its one lock).
    private struct Board {
        /// Each running job's phases as last reported, and its stage.
        var live: [String: [PhaseStatus]] = [:]
        var stages: [String: (stage: String, totalSteps: Int)] = [:]
        /// Signals the job loop to look for queued jobs.
        var wake: AsyncStream<Void>.Continuation?
        var tasks: [Task<Void, Never>] = []
        var runningJobs: Set<String> = []
        /// Set by `shutdown`: running jobs persist a snapshot at their next barrier and stop there.
        var stopping = false
        /// Running jobs that persisted a snapshot since `stopping` was set.
        var persistedWhileStopping: Set<String> = []
    }

    var wake: AsyncStream<Void>.Continuation? { board.withLock { $0.wake } }

    public init(
        state: StateDirectory, workers: Transport, control: Transport, settings: WorkerPool.Settings,
        checkpointSeconds: Double = 10, maxConcurrentJobs: Int = 1, cacheBudget: CacheBudget = CacheBudget(),
        logger: Logger = Logger(label: "lethe.coordinator", factory: SwiftLogNoOpLogHandler.init),
        runner: @escaping JobRunner = CoordinatorJobs.run
    ) {
        self.state = state
        self.control = control
        self.runner = runner
        self.logger = logger
        self.checkpointSeconds = checkpointSeconds
        self.maxConcurrentJobs = maxConcurrentJobs
        self.cacheBudget = cacheBudget
        endpoint = RoleSwitch(workers)
        ModelFiles.addSource { [blobs = state.blobs] in try? [UInt8](blobs.data($0)) }
        pool = WorkerPool(
            transport: endpoint.workers, blobs: state.blobs, settings: settings, logger: logger,
            onWorkerJoined: { [state] worker in
                try? state.recordWorker(
                    key: worker.peer.key ?? "insecure", name: worker.name, kernel: worker.kernelIdentity)
            },
            onRefusal: { [state] peer, reason, message in
                state.audit(Refusal(peer, endpoint: "workers", reason: reason, message: message))
            })
        var clientSettings = ClientRoster.Settings()
        clientSettings.heartbeatMilliseconds = settings.heartbeatMilliseconds
        clientSettings.liveness = settings.liveness
        clients = ClientRoster(
            transport: endpoint.clients, settings: clientSettings, logger: logger,
            onRefusal: { [state] peer, reason, message in
                state.audit(Refusal(peer, endpoint: "clients", reason: reason, message: message))
            })
    }

    /// Serves workers and the CLI and runs queued jobs (after a restart, the ones that were running first).
    public func start() throws {
        pool.start()
        clients.start()
        let resumed = try state.requeueRunningJobs()
        if !resumed.isEmpty { logger.info("resuming \(resumed.joined(separator: ", ")) after a restart") }
        let (signals, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let requests = control.incoming
        let tasks: [Task<Void, Never>] = [
            Task { [weak self] in for await received in requests { self?.handle(received) } },
            Task { [weak self] in await self?.runJobs(signals) },
            Task { [state] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(max(state.refusalLimits.intervalSeconds, 1)))
                    state.flushRefusals()
                }
            },
        ]
        board.withLock {
            $0.wake = wake
            $0.tasks = tasks
        }
        wake.yield()
    }

    public func stop() {
        board.withLock { $0.tasks.forEach { $0.cancel() } }
        wake?.finish()
        pool.stop()
        clients.stop()
        state.flushRefusals(all: true)
    }

    /// Stops gracefully: takes no more requests or jobs, lets each running job persist a snapshot at its next
    /// barrier, then fails their remaining steps and lets them end (all within `grace`). The jobs stay `running` in
    /// the state directory, so a restart resumes them from those snapshots with the same bits.
    public func shutdown(grace: Duration = .seconds(3)) async {
        let running = board.withLock {
            $0.stopping = true
            return $0.runningJobs
        }
        wake?.finish()
        if !running.isEmpty {
            logger.info("shutting down: \(running.sorted().joined(separator: ", ")) persist and resume on restart")
        }
        let deadline = ContinuousClock.now + grace
        await waitUntil(deadline) { $0.runningJobs.subtracting($0.persistedWhileStopping).isEmpty }
        pool.stop()
        clients.stop()
        await waitUntil(deadline) { $0.runningJobs.isEmpty }
        board.withLock { $0.tasks.forEach { $0.cancel() } }
        state.flushRefusals(all: true)
        logger.info("stopped")
    }

    private func waitUntil(_ deadline: ContinuousClock.Instant, _ condition: (Board) -> Bool) async {
        while ContinuousClock.now < deadline, !board.withLock({ condition($0) }) {
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    var isStopping: Bool { board.withLock { $0.stopping } }

    // MARK: jobs

    /// Starts queued jobs while fewer than `maxConcurrentJobs` run; a job that ends signals for the next.
    private func runJobs(_ signals: AsyncStream<Void>) async {
        await withDiscardingTaskGroup { group in
            for await _ in signals {
                while !Task.isCancelled, let job = nextJob() {
                    group.addTask { [self] in
                        await run(job)
                        _ = board.withLock { $0.runningJobs.remove(job.id) }
                        wake?.yield()
                    }
                }
            }
        }
    }

    private func nextJob() -> StoredJob? {
        board.withLock {
            guard !$0.stopping, $0.runningJobs.count < maxConcurrentJobs, let job = try? state.startNextJob() else {
                return nil
            }
            $0.runningJobs.insert(job.id)
            return job
        }
    }

    private func run(_ job: StoredJob) async {
        var jobLogger = logger
        jobLogger[metadataKey: "job"] = "\(job.id)"
        jobLogger.info("running \(job.id): \(job.spec.method) forgetting \(job.spec.forget)")
        let environment = environment(for: job, logger: jobLogger)
        defer { _ = board.withLock { $0.stages.removeValue(forKey: job.id) } }
        do {
            // Off the cooperative pool: a job computes for seconds between its awaits (verification, reports).
            let outputs = try await JobExecutor(name: "lethe.job.\(job.id)").run { try await runner(job, environment) }
            succeeded(job, outputs, logger: jobLogger)
        } catch  where isStopping {
            // Interrupted by a graceful shutdown: the job stays running and keeps its snapshot for the restart.
            jobLogger.info("\(job.id) stops with the coordinator and resumes on restart (\(error))")
            return
        } catch {
            failed(job, error, logger: jobLogger)
        }
        try? state.clearSnapshot(of: job.id)
    }

    /// What `job` may use, starting from what it persisted before a restart (if anything).
    private func environment(for job: StoredJob, logger: Logger) -> JobEnvironment {
        let (snapshot, federation) = persisted(job, logger: logger)
        let lastWrite = Locked(Date.distantPast)
        let lastSnapshot = Locked(Date())
        let (state, interval) = (state, checkpointSeconds)
        return JobEnvironment(
            pool: pool, blobs: state.blobs,
            progress: { [weak self] phase in
                guard let self else { return }
                let (done, total) = self.record(phase, of: job.id)
                if lastWrite.exchange(ifOlderThan: 1) { try? state.update(job.id, stepsDone: done, stepsTotal: total) }
            },
            stage: { [weak self] stage, totalSteps in
                guard let self else { return }
                board.withLock { $0.stages[job.id] = (stage, totalSteps) }
                let (done, total) = progress(of: job.id)
                try? state.update(job.id, stepsDone: done, stepsTotal: total)
            }, snapshot: snapshot,
            persist: { [weak self] phaseEnded, make in
                let stopping = self?.isStopping ?? true
                guard phaseEnded || stopping || lastSnapshot.exchange(ifOlderThan: interval) else { return }
                do {
                    try state.saveSnapshot(try SnapshotBlob.encode(make()), of: job.id)
                    if stopping { self?.persistedWhileStopping(job.id) }
                } catch {
                    logger.error("could not persist a snapshot: \(error)")
                }
            }, clients: clients, federation: federation,
            persistFederation: { [weak self] federation in
                do {
                    try state.saveSnapshot(try federation.encoded(), of: job.id)
                    if self?.isStopping ?? true { self?.persistedWhileStopping(job.id) }
                } catch {
                    logger.error("could not persist round \(federation.round): \(error)")
                }
            }, logger: logger,
            cache: RunCache(directory: state.url.appendingPathComponent("cache"), budget: cacheBudget),
            signingKeyBytes: state.signingKey)
    }

    /// The snapshot (unlearning) or federation state (federated jobs) a job persisted before a restart.
    private func persisted(_ job: StoredJob, logger: Logger) -> (PlanSnapshot?, FederationState?) {
        do {
            guard let data = try state.snapshot(of: job.id) else { return (nil, nil) }
            if job.spec.kind != nil {
                let federation = try FederationState(decoding: data)
                logger.info("\(job.id) resumes after round \(federation.round)")
                return (nil, federation)
            }
            let snapshot = try SnapshotBlob.decode(data)
            let work = snapshot.header.seconds.map { String(format: " after %.3f s of work", $0) } ?? ""
            logger.info(
                "\(job.id) resumes at phase \(snapshot.header.progress.phase), step \(snapshot.header.progress.step)\(work)"
            )
            return (snapshot, nil)
        } catch {
            logger.warning("\(job.id): its snapshot does not load (\(error)); starting over")
            return (nil, nil)
        }
    }

    private func persistedWhileStopping(_ job: String) {
        _ = board.withLock { $0.persistedWhileStopping.insert(job) }
    }

    /// Records a job that ran to the end, and audits its outputs.
    private func succeeded(_ job: StoredJob, _ outputs: JobOutputs, logger: Logger) {
        do {
            let (done, total) = progress(of: job.id)
            try state.update(
                job.id, state: .succeeded, message: "", stepsDone: done, stepsTotal: total, outputs: outputs)
            try state.audit(
                key: job.submittedBy, action: "job succeeded", job: job.id,
                detail: [
                    "weights_sha256": outputs.weightsSHA256, "report_sha256": outputs.reportSHA256,
                    "input_sha256": job.spec.weightsSHA256, "ledger_sha256": outputs.ledgerSHA256 ?? "",
                    "certificate_sha256": outputs.certificateSHA256 ?? "",
                    "client": job.spec.client ?? "", "source_job": job.spec.sourceJob ?? "",
                ].filter { !$0.value.isEmpty })
            try state.audit(
                key: job.submittedBy, action: "results by worker key", job: job.id,
                detail: pool.resultCounts(job: job.id).mapValues(String.init))
            logger.info("\(job.id) succeeded: weights \(outputs.weightsSHA256)")
        } catch {
            failed(job, error, logger: logger)
        }
    }

    /// Records a job that failed (keeping its outputs when it was asked to) or was cancelled.
    private func failed(_ job: StoredJob, _ error: any Error, logger: Logger) {
        switch error {
        case let failure as JobFailedWithOutputs:
            try? state.update(job.id, state: .failed, message: "\(failure.reason)", outputs: failure.outputs)
            try? state.audit(
                key: job.submittedBy, action: "job failed", job: job.id,
                detail: ["error": "\(failure.reason)", "weights_sha256": failure.outputs.weightsSHA256])
            logger.warning("\(job.id) failed (outputs kept): \(failure.reason)")
        case let cancelled as JobCancelled:
            try? state.update(job.id, state: .cancelled, message: "\(cancelled)")
            logger.info("\(job.id) cancelled")
        default:
            try? state.update(job.id, state: .failed, message: "\(error)")
            try? state.audit(key: job.submittedBy, action: "job failed", job: job.id, detail: ["error": "\(error)"])
            logger.warning("\(job.id) failed: \(error)")
        }
    }

    private func record(_ phase: PhaseStatus, of job: String) -> (Int, Int) {
        board.withLock {
            var phases = $0.live[job, default: []]
            if let index = phases.firstIndex(where: { $0.name == phase.name }) {
                phases[index] = phase
            } else {
                phases.append(phase)
            }
            $0.live[job] = phases
        }
        return progress(of: job)
    }

    /// Steps run so far, and the plan's steps once the job has said (federated jobs: the rounds' sum so far).
    private func progress(of job: String) -> (Int, Int) {
        board.withLock {
            let phases = $0.live[job, default: []]
            let total = $0.stages[job]?.totalSteps ?? phases.reduce(0) { $0 + $1.total }
            return (phases.reduce(0) { $0 + $1.completed }, total)
        }
    }

    func status(_ job: StoredJob) -> JobStatus {
        let (phases, stage) = board.withLock { ($0.live[job.id] ?? [], $0.stages[job.id]) }
        var status = JobStatus(
            id: job.id, state: job.state, method: job.spec.method, forget: job.spec.forget, phases: phases,
            message: job.message, submittedAt: job.submittedAt, updatedAt: job.updatedAt, submittedBy: job.submittedBy,
            stepsDone: job.stepsDone, stepsTotal: job.stepsTotal)
        if job.state == .running, let stage {
            status.stage = stage.stage
            (status.stepsDone, status.stepsTotal) = progress(of: job.id)
        }
        return status
    }
}

/// A job that ran to the end but failed its checks, and was asked to keep what it produced: it ends `failed`
/// with `reason`, and `lethe result` still fetches `outputs`.
public struct JobFailedWithOutputs: Error {
    public let outputs: JobOutputs
    public let reason: any Error & CustomStringConvertible

    public init(outputs: JobOutputs, reason: any Error & CustomStringConvertible) {
        self.outputs = outputs
        self.reason = reason
    }
}

/// The kinds of job besides unlearning (`JobSpec.kind`).
public enum JobKind {
    public static let federated = "federated"
    public static let forgetClient = "forget-client"
    /// One reference model of the membership audit (`lethe audit prepare --coordinator`).
    public static let auditReference = "audit-reference"
}

extension Coordinator: Service {
    /// Serves until a graceful shutdown (SIGTERM, SIGINT), then stops as `shutdown` says.
    public func run() async throws {
        try start()
        try? await gracefulShutdown()
        await shutdown()
    }
}
