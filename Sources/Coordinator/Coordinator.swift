import Foundation
import Jobs
import Logging
import ServiceLifecycle
import Transport
import Unlearning
import Wire

/// The coordinator daemon's logic, over any transport (DESIGN §5–6): a worker pool on one transport, the CLI's
/// requests on another, jobs queued in the state directory and run by `runner` (`CoordinatorJobs.run`; tests
/// inject others), up to `maxConcurrentJobs` at a time in submission order. Every request is audited with the key
/// it authenticated with. As a `Service` it runs until a graceful shutdown (SIGTERM), then persists what is
/// running and stops; a restart on the same state directory resumes it with the same bits.
public final class Coordinator: @unchecked Sendable {
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
        public var log: @Sendable (String) -> Void { { [logger] in logger.info("\($0)") } }
    }

    public typealias JobRunner = @Sendable (StoredJob, JobEnvironment) async throws -> JobOutputs

    public let state: StateDirectory
    public let pool: WorkerPool
    public let clients: ClientRoster
    private let endpoint: RoleSwitch
    private let control: Transport
    private let runner: JobRunner
    private let logger: Logger
    /// Longest time between two persisted snapshots of a running job.
    private let checkpointSeconds: Double
    /// Jobs that run at once (they share the workers and clients; each job's bits do not depend on it).
    private let maxConcurrentJobs: Int
    private let lock = NSLock()
    private var live: [String: [PhaseStatus]] = [:]
    private var stages: [String: (stage: String, totalSteps: Int)] = [:]
    private var wake: AsyncStream<Void>.Continuation?
    private var tasks: [Task<Void, Never>] = []
    private var runningJobs: Set<String> = []
    /// Set by `shutdown`: running jobs persist a snapshot at their next barrier and stop there.
    private var stopping = false
    /// Running jobs that persisted a snapshot since `stopping` was set.
    private var persistedWhileStopping: Set<String> = []

    public init(
        state: StateDirectory, workers: Transport, control: Transport, settings: WorkerPool.Settings,
        checkpointSeconds: Double = 10, maxConcurrentJobs: Int = 1,
        logger: Logger = Logger(label: "lethe.coordinator", factory: SwiftLogNoOpLogHandler.init),
        runner: @escaping JobRunner = CoordinatorJobs.run
    ) {
        self.state = state
        self.control = control
        self.runner = runner
        self.logger = logger
        self.checkpointSeconds = checkpointSeconds
        self.maxConcurrentJobs = maxConcurrentJobs
        endpoint = RoleSwitch(workers)
        pool = WorkerPool(transport: endpoint.workers, blobs: state.blobs, settings: settings, logger: logger)
        var clientSettings = ClientRoster.Settings()
        clientSettings.heartbeatMilliseconds = settings.heartbeatMilliseconds
        clientSettings.liveness = settings.liveness
        clients = ClientRoster(transport: endpoint.clients, settings: clientSettings, logger: logger)
    }

    /// Serves workers and the CLI and runs queued jobs (after a restart, the ones that were running first).
    public func start() throws {
        pool.onWorkerJoined = { [state] worker in
            try? state.recordWorker(
                key: worker.peer.key ?? "insecure", name: worker.name, kernel: worker.kernelIdentity)
        }
        pool.onRefusal = { [state] peer, reason, message in
            state.audit(Refusal(peer, endpoint: "workers", reason: reason, message: message))
        }
        pool.start()
        clients.onRefusal = { [state] peer, reason, message in
            state.audit(Refusal(peer, endpoint: "clients", reason: reason, message: message))
        }
        clients.start()
        let resumed = try state.requeueRunningJobs()
        if !resumed.isEmpty { logger.info("resuming \(resumed.joined(separator: ", ")) after a restart") }
        let (signals, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        self.wake = wake
        let requests = control.incoming
        tasks.append(Task { [weak self] in for await received in requests { self?.handle(received) } })
        tasks.append(Task { [weak self] in await self?.runJobs(signals) })
        tasks.append(
            Task { [state] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(max(state.refusalLimits.intervalSeconds, 1)))
                    state.flushRefusals()
                }
            })
        wake.yield()
    }

    public func stop() {
        tasks.forEach { $0.cancel() }
        wake?.finish()
        pool.stop()
        clients.stop()
        state.flushRefusals(all: true)
    }

    /// Stops gracefully: takes no more requests or jobs, lets each running job persist a snapshot at its next
    /// barrier, then fails their remaining steps and lets them end (all within `grace`). The jobs stay `running` in
    /// the state directory, so a restart resumes them from those snapshots with the same bits.
    public func shutdown(grace: Duration = .seconds(3)) async {
        let running = lock.withLock {
            stopping = true
            return runningJobs
        }
        wake?.finish()
        if !running.isEmpty {
            logger.info("shutting down: \(running.sorted().joined(separator: ", ")) persist and resume on restart")
        }
        let deadline = ContinuousClock.now + grace
        await waitUntil(deadline) { runningJobs.subtracting(persistedWhileStopping).isEmpty }
        pool.stop()
        clients.stop()
        await waitUntil(deadline) { runningJobs.isEmpty }
        tasks.forEach { $0.cancel() }
        state.flushRefusals(all: true)
        logger.info("stopped")
    }

    private func waitUntil(_ deadline: ContinuousClock.Instant, _ condition: () -> Bool) async {
        while ContinuousClock.now < deadline, !lock.withLock(condition) {
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    private var isStopping: Bool { lock.withLock { stopping } }

    // MARK: jobs

    /// Starts queued jobs while fewer than `maxConcurrentJobs` run; a job that ends signals for the next.
    private func runJobs(_ signals: AsyncStream<Void>) async {
        await withDiscardingTaskGroup { group in
            for await _ in signals {
                while !Task.isCancelled, let job = nextJob() {
                    group.addTask { [self] in
                        await run(job)
                        lock.withLock { _ = runningJobs.remove(job.id) }
                        wake?.yield()
                    }
                }
            }
        }
    }

    private func nextJob() -> StoredJob? {
        lock.withLock {
            guard !stopping, runningJobs.count < maxConcurrentJobs, let job = try? state.startNextJob() else {
                return nil
            }
            runningJobs.insert(job.id)
            return job
        }
    }

    private func run(_ job: StoredJob) async {
        var jobLogger = logger
        jobLogger[metadataKey: "job"] = "\(job.id)"
        jobLogger.info("running \(job.id): \(job.spec.method) forgetting \(job.spec.forget)")
        let environment = environment(for: job, logger: jobLogger)
        defer { _ = lock.withLock { stages.removeValue(forKey: job.id) } }
        do {
            succeeded(job, try await runner(job, environment), logger: jobLogger)
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
                lock.withLock { stages[job.id] = (stage, totalSteps) }
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
            }, logger: logger)
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
        _ = lock.withLock { persistedWhileStopping.insert(job) }
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
        lock.withLock {
            var phases = live[job, default: []]
            if let index = phases.firstIndex(where: { $0.name == phase.name }) {
                phases[index] = phase
            } else {
                phases.append(phase)
            }
            live[job] = phases
        }
        return progress(of: job)
    }

    /// Steps run so far, and the plan's steps once the job has said (federated jobs: the rounds' sum so far).
    private func progress(of job: String) -> (Int, Int) {
        lock.withLock {
            let phases = live[job, default: []]
            let total = stages[job]?.totalSteps ?? phases.reduce(0) { $0 + $1.total }
            return (phases.reduce(0) { $0 + $1.completed }, total)
        }
    }

    func status(_ job: StoredJob) -> JobStatus {
        let (phases, stage) = lock.withLock { (live[job.id] ?? [], stages[job.id]) }
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

    // MARK: requests

    func handle(_ received: Received) {
        guard
            let envelope: Envelope<ControlRequest> = received.envelope(refusing: { error in
                if case .unexpected(let kind, let requestID, let refusal) = error {
                    return refuse(received.peer, kind: kind, requestID: requestID, refusal)
                }
                logger.warning("refused a request from \(received.peer): \(error)")
                state.audit(Refusal(received.peer, endpoint: "control", reason: "malformed", message: "\(error)"))
                // Answer the refused request by its id where it can be read, so the requester hears why at once.
                reply(
                    Envelope(
                        .error(ProtocolError(error.code, "\(error)")),
                        requestID: WireCodec.requestID(received.frames) ?? 0), to: received.peer)
            })
        else { return }
        let key = received.peer.key ?? "insecure"
        guard !isStopping else {
            let refusal = ProtocolError(.internalError, "the coordinator is shutting down; try again once it is back")
            return reply(Envelope(.error(refusal), requestID: envelope.requestID), to: received.peer)
        }
        do {
            let answer = try respond(to: envelope.message, from: key)
            reply(Envelope(answer, requestID: envelope.requestID), to: received.peer)
        } catch {
            refuse(
                received.peer, kind: envelope.message.kind, requestID: envelope.requestID,
                error as? ProtocolError ?? ProtocolError(.internalError, "\(error)"))
        }
    }

    /// Audits a refused request by its kind and answers it with the refusal.
    private func refuse(_ peer: Peer, kind: String, requestID: UInt64, _ refusal: ProtocolError) {
        state.audit(Refusal(peer, endpoint: "control", reason: kind, message: refusal.message))
        reply(Envelope(.error(refusal), requestID: requestID), to: peer)
    }

    private func respond(to message: ControlRequest, from key: String) throws -> ControlReply {
        switch message {
        case .jobSubmit(let submitted):
            let spec = try resolve(submitted)
            try check(spec)
            let id = try state.submit(spec, by: key)
            try state.audit(
                key: key, action: "submit", job: id,
                detail: [
                    "method": spec.method, "forget": spec.forget, "input_sha256": spec.weightsSHA256,
                    "train_sha256": spec.trainSHA256, "seed": String(spec.seed), "shards": String(spec.shards),
                    "params": spec.params.sorted { $0.key < $1.key }.map { "\($0)=\($1)" }.joined(separator: ","),
                    "kind": spec.kind ?? "unlearning", "client": spec.client ?? "", "source_job": spec.sourceJob ?? "",
                ].filter { !$0.value.isEmpty })
            logger.info(
                "\(id) queued: \(spec.method) forgetting \(spec.forget)", metadata: ["job": "\(id)", "key": "\(key)"])
            wake?.yield()
            return .jobAccepted(id: id)
        case .jobQuery(let id):
            return .jobStatus(status(try known(id)))
        case .jobList:
            return .jobList(try state.jobs().map(status))
        case .jobCancel(let id):
            let job = try known(id)
            guard !job.state.isFinished else {
                throw ProtocolError(.badRequest, "\(id) already \(job.state)")
            }
            try state.audit(key: key, action: "cancel", job: id)
            if job.state == .queued { try state.update(id, state: .cancelled, message: "cancelled before it ran") }
            pool.cancel(job: id)
            clients.cancel(job: id)
            return .jobStatus(status(try known(id)))
        case .jobResultRequest(let id):
            let job = try known(id)
            // A failed job has outputs only when it was asked to keep them (`keep-failed`); its report says why.
            guard [.succeeded, .failed].contains(job.state), let outputs = job.outputs else {
                throw ProtocolError(
                    .badRequest, "\(id) is \(job.state)\(job.message.isEmpty ? "" : ": \(job.message)")")
            }
            try state.audit(key: key, action: "fetch result", job: id)
            return .jobResult(outputs)
        case .workerQuery:
            let workers = pool.workerList.map {
                WorkerSummary(
                    name: $0.name, key: $0.peer.key ?? "", kernelIdentity: $0.kernelIdentity,
                    state: $0.inFlight > 0 ? "busy" : "idle", tasksDone: $0.tasksDone,
                    lastSeen: $0.lastSeen.timeIntervalSince1970, kernelMatches: $0.kernelMatches)
            }
            let clients = clients.clientList.map {
                WorkerSummary(
                    name: $0.name, key: $0.key ?? "", kernelIdentity: $0.partition,
                    state: $0.online ? "online" : "offline", tasksDone: $0.tasksDone,
                    lastSeen: $0.lastSeen.timeIntervalSince1970, kernelMatches: true, role: "client",
                    samples: $0.samples)
            }
            return .workerList(workers + clients)
        case .blobOffer(let offer):
            let blobs = state.blobs
            if blobs.contains(offer.sha256) {
                return .blobStored(BlobStored(sha256: offer.sha256, storedBytes: offer.totalBytes, complete: true))
            }
            return .blobStored(
                BlobStored(sha256: offer.sha256, storedBytes: blobs.partialLength(offer.sha256), complete: false))
        case .blobUpload(let chunk):
            do {
                let complete = try state.blobs.append(
                    chunk.sha256, offset: chunk.offset, total: chunk.totalBytes, bytes: chunk.data)
                if complete {
                    try state.recordBlob(chunk.sha256, kind: "upload", bytes: chunk.totalBytes)
                    try state.audit(key: key, action: "upload", detail: ["sha256": chunk.sha256])
                }
                return .blobStored(
                    BlobStored(
                        sha256: chunk.sha256,
                        storedBytes: complete ? chunk.totalBytes : state.blobs.partialLength(chunk.sha256),
                        complete: complete))
            } catch BlobError.outOfOrder(_, let expected, _) {
                // Two users uploading the same bytes at once: each goes on from what the other stored.
                return .blobStored(BlobStored(sha256: chunk.sha256, storedBytes: expected, complete: false))
            } catch {
                throw ProtocolError(.badRequest, "\(error)")
            }
        case .blobRequest(let request):
            do {
                return .blobChunk(try state.blobs.chunk(for: request))
            } catch {
                throw ProtocolError(.unknownBlob, "\(error)")
            }
        }
    }

    private func known(_ id: String) throws -> StoredJob {
        guard let job = try state.job(id) else {
            throw ProtocolError(.unknownJob, "no job '\(id)'; `lethe jobs` lists them")
        }
        return job
    }

    /// A forget-client job starts from its source job's outputs: they become its inputs (for the audit trail).
    private func resolve(_ spec: JobSpec) throws -> JobSpec {
        guard spec.kind == JobKind.forgetClient else { return spec }
        guard let source = spec.sourceJob, let client = spec.client, !client.isEmpty else {
            throw ProtocolError(.badRequest, "forget-client needs the federated job and the client to forget")
        }
        let job = try known(source)
        guard job.spec.kind == JobKind.federated else {
            throw ProtocolError(.badRequest, "\(source) is not a federated training job")
        }
        guard job.state == .succeeded, let outputs = job.outputs, let ledger = outputs.ledgerSHA256 else {
            throw ProtocolError(.badRequest, "\(source) is \(job.state); forget a client once its training succeeded")
        }
        var resolved = spec
        resolved.architecture = job.spec.architecture
        resolved.weightsSHA256 = outputs.weightsSHA256
        resolved.testSHA256 = job.spec.testSHA256
        resolved.referenceSHA256 = ledger
        resolved.seed = job.spec.seed
        resolved.weightsName = "\(source).safetensors"
        resolved.forget = "client \(client)"
        for (key, value) in job.spec.params where FederatedSettings.declarations.contains(where: { $0.key == key }) {
            resolved.params["training.\(key)"] = value
        }
        return resolved
    }

    private func check(_ spec: JobSpec) throws {
        switch spec.kind {
        case nil: try checkUnlearning(spec)
        case JobKind.federated?:
            do {
                guard spec.method == "fedavg" else {
                    throw ProtocolError(.badRequest, "federated jobs train with fedavg")
                }
                _ = try FederatedSettings(spec.params)
            } catch let error as ProtocolError {
                throw error
            } catch {
                throw ProtocolError(.badRequest, "\(error)")
            }
        case JobKind.forgetClient?:
            do {
                _ = try ForgettingSettings(
                    method: spec.method, params: spec.params.filter { !$0.key.hasPrefix("training.") })
            } catch {
                throw ProtocolError(.badRequest, "\(error)")
            }
        case let kind?:
            throw ProtocolError(.badRequest, "unknown job kind '\(kind)'; use federated or forget-client")
        }
        if spec.kind != nil, spec.weightsSHA256.isEmpty || spec.testSHA256.isEmpty {
            throw ProtocolError(.badRequest, "a federated job needs initial weights and a test set")
        }
        if let missing = spec.blobs.first(where: { !state.blobs.contains($0) }) {
            throw ProtocolError(.unknownBlob, "blob \(missing) has not been uploaded")
        }
    }

    private func checkUnlearning(_ spec: JobSpec) throws {
        guard let method = UnlearningMethods.named(spec.method) else {
            throw ProtocolError(
                .badRequest,
                "unknown method '\(spec.method)'; choose one of \(UnlearningMethods.all.map(\.name).joined(separator: ", "))"
            )
        }
        do {
            try MethodParameters(method.allParameters, overrides: spec.params).checkShards(spec.shards, recipe: nil)
        } catch {
            throw ProtocolError(.badRequest, "\(error)")
        }
        if spec.trainSHA256.isEmpty || spec.scenarioSHA256.isEmpty || spec.weightsSHA256.isEmpty {
            throw ProtocolError(.badRequest, "an unlearning job needs weights, a training set and a scenario")
        }
    }

    private func reply(_ envelope: Envelope<ControlReply>, to peer: Peer) { control.send(envelope, to: peer) }
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
}

extension Coordinator: Service {
    /// Serves until a graceful shutdown (SIGTERM, SIGINT), then stops as `shutdown` says.
    public func run() async throws {
        try start()
        try? await gracefulShutdown()
        await shutdown()
    }
}
