import Foundation
import Jobs
import Logging
import Transport
import Wire

/// The coordinator's side of the worker protocol: registers workers, hands shard tasks to those with credit,
/// collects each shard's result at most once, re-queues the tasks of workers that fail or fall silent, and
/// serves blobs. Jobs call `run(_:)` from their own thread and block until every shard of the group is in.
/// With no worker connected a group waits; it never fails for lack of workers.
public final class WorkerPool: @unchecked Sendable {
    public struct Settings: Sendable {
        public var kernelIdentity: String
        public var heartbeatMilliseconds = 500
        /// Heartbeat intervals a worker may stay silent before its tasks go to others.
        public var liveness = 6
        /// Failed attempts per shard before the step fails (a task that fails everywhere is a bad task; a lost
        /// worker does not count).
        public var maximumAttempts = 4
        /// Run on workers whose BLAS kernels differ from ours (results then differ in low bits).
        public var allowMixedKernels = false

        public init(kernelIdentity: String) { self.kernelIdentity = kernelIdentity }
    }

    /// A shard to compute: its work, the tensors that travel with it and the context (weights by hash).
    public struct Task: Sendable {
        public var id: TaskID
        public var context: JobContext
        public var work: ShardWork
        public var tensors: [NamedTensor]
        /// Checks a result's tensors before it is accepted.
        public var validate: @Sendable (Answer) -> String?

        public init(
            id: TaskID, context: JobContext, work: ShardWork, tensors: [NamedTensor],
            validate: @escaping @Sendable (Answer) -> String?
        ) {
            self.id = id
            self.context = context
            self.work = work
            self.tensors = tensors
            self.validate = validate
        }
    }

    /// A shard's result as its worker reported it, with the tensors that came with it.
    public struct Answer: Sendable {
        public var report: ShardReport
        public var tensors: [NamedTensor]
    }

    /// A worker as the pool sees it.
    public struct WorkerInfo: Sendable {
        public var peer: Peer
        public var name: String
        public var kernelIdentity: String
        public var kernelMatches: Bool
        public var credit: Int
        public var inFlight: Int
        public var tasksDone: Int
        public var lastSeen: Date
    }

    public let settings: Settings
    private let transport: Transport
    private let lock = NSLock()
    private var workers: [Peer: Worker] = [:]
    private var queue: [Pending] = []
    private var dispatched: [UInt64: Pending] = [:]
    private var nextRequestID: UInt64 = 1
    private let blobs: BlobStore
    private var refusals: [String: Int] = [:]
    private lazy var stallGuard = StallGuard(
        heartbeatMilliseconds: settings.heartbeatMilliseconds, liveness: settings.liveness)
    private var cancelledJobs = Set<String>()
    private var resultsByKey: [String: [String: Int]] = [:]
    private var bytesSent = 0
    private var bytesReceived = 0
    private var listener: _Concurrency.Task<Void, Never>?
    private var ticker: _Concurrency.Task<Void, Never>?
    private let logger: Logger
    /// Set by `stop()`: every later step fails with `CoordinatorStopping`.
    private var stopped = false
    /// Called (under the pool's lock) with each refused message's peer, reason and what was wrong (for the audit log).
    public var onRefusal: @Sendable (_ peer: Peer, _ reason: String, _ message: String) -> Void = { _, _, _ in }
    /// Called (under the pool's lock) when a worker says hello.
    public var onWorkerJoined: @Sendable (WorkerInfo) -> Void = { _ in }

    public init(
        transport: Transport, blobs: BlobStore, settings: Settings,
        logger: Logger = Logger(label: "lethe.pool", factory: SwiftLogNoOpLogHandler.init)
    ) {
        self.transport = transport
        self.blobs = blobs
        self.settings = settings
        self.logger = logger
    }

    private func log(_ message: String, _ level: Logger.Level = .info) { logger.log(level: level, "\(message)") }

    /// Starts serving the transport's messages and the heartbeat timer.
    public func start() {
        let incoming = transport.incoming
        listener = _Concurrency.Task { [weak self] in
            for await received in incoming { self?.handle(received) }
        }
        let interval = settings.heartbeatMilliseconds
        ticker = _Concurrency.Task { [weak self] in
            while !_Concurrency.Task.isCancelled {
                try? await _Concurrency.Task.sleep(for: .milliseconds(interval))
                self?.tick()
            }
        }
    }

    public func stop() {
        listener?.cancel()
        ticker?.cancel()
        lock.withLock {
            stopped = true
            for pending in queue + Array(dispatched.values) { pending.group.fail(CoordinatorStopping()) }
        }
    }

    /// Computes every task (one per shard) and returns their results in the order given.
    public func run(_ tasks: [Task], weights: [NamedTensor]) throws -> [Answer] {
        let group = Group(count: tasks.count, weights: weights)
        try lock.withLock {
            if stopped { throw CoordinatorStopping() }
            if let job = tasks.first?.id.job, cancelledJobs.contains(job) { throw JobCancelled(job: job) }
            queue += tasks.enumerated().map { Pending(task: $1, index: $0, group: group) }
            dispatch()
        }
        return try group.wait()
    }

    /// Stops a job's tasks: queued ones are dropped, waiting steps fail with `JobCancelled`, later ones too.
    public func cancel(job: String) {
        lock.withLock {
            cancelledJobs.insert(job)
            for pending in queue + Array(dispatched.values) where pending.task.id.job == job {
                pending.group.fail(JobCancelled(job: job))
            }
            queue.removeAll { $0.task.id.job == job }
            let dropped = Set(dispatched.filter { $0.value.task.id.job == job }.keys)
            dispatched = dispatched.filter { !dropped.contains($0.key) }
            for worker in workers.values { worker.inFlight.subtract(dropped) }
        }
    }

    public var workerList: [WorkerInfo] {
        lock.withLock {
            workers.values.map {
                WorkerInfo(
                    peer: $0.peer, name: $0.name, kernelIdentity: $0.kernelIdentity, kernelMatches: $0.kernelMatches,
                    credit: $0.credit, inFlight: $0.inFlight.count, tasksDone: $0.tasksDone, lastSeen: $0.lastSeen)
            }.sorted { $0.name < $1.name }
        }
    }

    /// Bytes sent and received on the worker socket so far (all frames).
    public var bytesMoved: Int { lock.withLock { bytesSent + bytesReceived } }

    /// How many of a job's shard results each authenticated key computed.
    public func resultCounts(job: String) -> [String: Int] { lock.withLock { resultsByKey[job] ?? [:] } }

    /// Messages refused so far, by reason (for logs and tests).
    public var refusalCounts: [String: Int] { lock.withLock { refusals } }

    // MARK: messages

    func handle(_ received: Received) {
        lock.withLock {
            bytesReceived += received.frames.reduce(0) { $0 + $1.count }
            guard
                let envelope = received.envelope(as: WorkerToCoordinator.self, refusing: { refuse(received.peer, $0) })
            else { return }
            if case .hello(let hello) = envelope.message {
                welcome(received.peer, hello)
                return
            }
            guard let worker = registered(received.peer, requestID: envelope.requestID) else { return }
            switch envelope.message {
            case .hello:
                break  // welcomed above
            case .ready(let credit):
                worker.credit = min(worker.credit + credit, 64)
                dispatch()
            case .heartbeat:
                break
            case .goodbye(let reason):
                log("worker \(worker.name) left: \(reason)")
                remove(worker)
            case .shardResult(let report):
                accept(envelope, report: report, from: worker)
            case .error(let error):
                failed(requestID: envelope.requestID, worker: worker, error)
            case .blobRequest(let request):
                serve(request, requestID: envelope.requestID, to: received.peer)
            }
        }
    }

    /// The peer's worker, just heard from; nil after refusing the message of a peer that has not said hello.
    private func registered(_ peer: Peer, requestID: UInt64) -> Worker? {
        guard let worker = workers[peer] else {
            refuse(
                peer, requestID: requestID, code: .notRegistered, "unknown worker: send hello first",
                reason: "unregistered")
            return nil
        }
        worker.lastSeen = Date()
        return worker
    }

    /// Refuses a message the decoder refused; another side's message only once its peer has said hello.
    private func refuse(_ peer: Peer, _ error: WireError) {
        let (requestID, refusal, reason) = error.refusal
        if case .unexpected = error, registered(peer, requestID: requestID) == nil { return }
        refuse(peer, requestID: requestID, code: refusal.code, refusal.message, reason: reason)
    }

    private func welcome(_ peer: Peer, _ hello: Hello) {
        let matches = hello.kernelIdentity == settings.kernelIdentity
        if let previous = workers[peer] { remove(previous) }
        let worker = Worker(peer: peer, name: hello.name, kernelIdentity: hello.kernelIdentity, kernelMatches: matches)
        workers[peer] = worker
        onWorkerJoined(
            WorkerInfo(
                peer: peer, name: hello.name, kernelIdentity: hello.kernelIdentity, kernelMatches: matches, credit: 0,
                inFlight: 0, tasksDone: 0, lastSeen: worker.lastSeen))
        if !matches {
            log(
                "worker \(hello.name) uses BLAS kernels \(hello.kernelIdentity), not \(settings.kernelIdentity): "
                    + (settings.allowMixedKernels ? "mixing them (results differ in low bits)" : "it gets no tasks"))
        }
        send(
            Envelope(
                .welcome(
                    Welcome(
                        coordinatorKernelIdentity: settings.kernelIdentity,
                        heartbeatIntervalMilliseconds: settings.heartbeatMilliseconds, liveness: settings.liveness))),
            to: peer)
    }

    private func accept(_ envelope: Envelope<WorkerToCoordinator>, report: ShardReport, from worker: Worker) {
        guard let pending = dispatched[envelope.requestID], pending.task.id.job == report.id.job,
            pending.task.id.step == report.id.step, pending.task.id.shard == report.id.shard
        else {
            if cancelledJobs.contains(report.id.job) {
                log("dropped \(worker.name)'s late result for \(report.id): its job was cancelled")
                return
            }
            refuse(
                worker.peer, requestID: envelope.requestID, code: .unknownTask,
                "no task \(report.id) is waiting for a result", reason: "unknown task")
            return
        }
        dispatched[envelope.requestID] = nil
        worker.inFlight.remove(envelope.requestID)
        let answer = Answer(report: report, tensors: envelope.tensors)
        if let problem = pending.task.validate(answer) {
            refuse(worker.peer, requestID: envelope.requestID, code: .badShape, problem, reason: "bad result")
            var pending = pending
            pending.excluded.insert(worker.peer)
            retry(pending, because: "\(worker.name) sent a bad result: \(problem)")
            return
        }
        worker.tasksDone += 1
        resultsByKey[report.id.job, default: [:]][worker.peer.key ?? "insecure", default: 0] += 1
        pending.group.deliver(answer, at: pending.index)
    }

    private func failed(requestID: UInt64, worker: Worker, _ error: ProtocolError) {
        guard var pending = dispatched.removeValue(forKey: requestID) else {
            log("worker \(worker.name) reported: \(error.message)")
            return
        }
        worker.inFlight.remove(requestID)
        let stale = error.code == .staleWeights
        if stale { worker.weights = nil } else { pending.excluded.insert(worker.peer) }
        retry(pending, because: "\(worker.name): \(error.message)", blamingTheTask: !stale)
    }

    /// Queues a task again. `blamingTheTask` counts towards `maximumAttempts` (a bad result or an error computing
    /// it); a lost worker does not: its tasks are simply recomputed elsewhere.
    private func retry(_ pending: Pending, because reason: String, blamingTheTask: Bool = true) {
        var pending = pending
        pending.task.id.attempt += 1
        if blamingTheTask { pending.failures += 1 }
        guard pending.failures < settings.maximumAttempts else {
            pending.group.fail(
                ProtocolError(
                    .internalError, "shard \(pending.task.id) failed \(settings.maximumAttempts) times; last: \(reason)"
                ))
            return
        }
        log("re-queueing \(pending.task.id): \(reason)")
        queue.insert(pending, at: 0)
        dispatch()
    }

    private func serve(_ request: BlobRequest, requestID: UInt64, to peer: Peer) {
        do {
            send(Envelope(.blobChunk(try blobs.chunk(for: request)), requestID: requestID), to: peer)
        } catch {
            refuse(peer, requestID: requestID, code: .unknownBlob, "\(error)", reason: "unknown blob")
        }
    }

    // MARK: dispatch and liveness

    /// Hands queued tasks, oldest first, to eligible workers with credit (least in flight first). A task does
    /// not go back to a worker that failed it while any other eligible worker exists.
    private func dispatch() {
        let eligible = workers.values.filter { $0.kernelMatches || settings.allowMixedKernels }
        var index = 0
        while index < queue.count {
            let fresh = eligible.filter { !queue[index].excluded.contains($0.peer) }
            guard
                let worker = (fresh.isEmpty ? eligible : fresh).filter({ $0.credit > 0 }).min(by: {
                    ($0.inFlight.count, -$0.credit, $0.name) < ($1.inFlight.count, -$1.credit, $1.name)
                })
            else {
                if !eligible.contains(where: { $0.credit > 0 }) { return }
                index += 1
                continue
            }
            let pending = queue.remove(at: index)
            var context = pending.task.context
            context.weightsIncluded = worker.weights != context.weightsVersion
            let tensors = (context.weightsIncluded ? pending.group.weights : []) + pending.task.tensors
            let requestID = nextRequestID
            nextRequestID += 1
            dispatched[requestID] = pending
            worker.inFlight.insert(requestID)
            worker.credit -= 1
            worker.weights = context.weightsVersion
            send(
                Envelope(
                    .shardTask(ShardTask(id: pending.task.id, context: context, work: pending.task.work)),
                    requestID: requestID, tensors: tensors), to: worker.peer)
        }
    }

    func tick() {
        lock.withLock {
            let now = Date()
            if stallGuard.stalled(now: now) {
                for worker in workers.values { worker.lastSeen = now }
            }
            let deadline = now.addingTimeInterval(-Double(settings.heartbeatMilliseconds * settings.liveness) / 1000)
            for worker in workers.values {
                if worker.lastSeen < deadline {
                    log("worker \(worker.name) is silent; its \(worker.inFlight.count) task(s) go to others")
                    remove(worker)
                } else {
                    send(Envelope(.heartbeat), to: worker.peer)
                }
            }
            dispatch()
        }
    }

    private func remove(_ worker: Worker) {
        workers[worker.peer] = nil
        for requestID in worker.inFlight.sorted().reversed() {
            if let pending = dispatched.removeValue(forKey: requestID) {
                retry(pending, because: "worker \(worker.name) is gone", blamingTheTask: false)
            }
        }
        worker.inFlight.removeAll()
    }

    private func send(_ envelope: Envelope<CoordinatorToWorker>, to peer: Peer) {
        let frames = WireCodec.encode(envelope)
        bytesSent += frames.reduce(0) { $0 + $1.count }
        transport.send(frames, to: peer)
    }

    private func refuse(_ peer: Peer, requestID: UInt64, code: ProtocolError.Code, _ message: String, reason: String) {
        refusals[reason, default: 0] += 1
        log("refused a message from \(peer) (\(reason)): \(message)", .warning)
        onRefusal(peer, reason, message)
        send(Envelope(.error(ProtocolError(code, message)), requestID: requestID), to: peer)
    }
}

extension WireError {
    var code: ProtocolError.Code {
        switch self {
        case .wrongVersion: .wrongVersion
        case .unexpected(_, _, let refusal): refusal.code
        case .missingFrames, .malformedEnvelope, .badTensor, .invalidField: .badMessage
        }
    }

    /// How the worker endpoint (workers and clients alike) answers what its decoder refused: another side's message
    /// as unexpected, by its request id; anything else as malformed, by request id 0 (its own may not be readable).
    var refusal: (requestID: UInt64, error: ProtocolError, reason: String) {
        if case .unexpected(_, let requestID, let refusal) = self {
            (requestID, refusal, "unexpected")
        } else {
            (0, ProtocolError(code, "\(self)"), "malformed")
        }
    }
}

/// A registered worker (guarded by the pool's lock).
private final class Worker {
    let peer: Peer
    let name: String
    let kernelIdentity: String
    let kernelMatches: Bool
    var credit = 0
    var inFlight = Set<UInt64>()
    var tasksDone = 0
    var lastSeen = Date()
    /// The weights version the worker's replica holds (as far as we know).
    var weights: String?

    init(peer: Peer, name: String, kernelIdentity: String, kernelMatches: Bool) {
        self.peer = peer
        self.name = name
        self.kernelIdentity = kernelIdentity
        self.kernelMatches = kernelMatches
    }
}

private struct Pending {
    var task: WorkerPool.Task
    let index: Int
    let group: Group
    /// Attempts that failed because of the task itself.
    var failures = 0
    /// Workers that failed this task (it goes elsewhere when it can).
    var excluded = Set<Peer>()
}

/// The shards of one step: the job's thread waits until all are in (or the step fails).
private final class Group: @unchecked Sendable {
    let weights: [NamedTensor]
    private var results: [WorkerPool.Answer?]
    private var remaining: Int
    private var failure: (any Error)?
    private let done = DispatchSemaphore(value: 0)

    init(count: Int, weights: [NamedTensor]) {
        self.weights = weights
        results = Array(repeating: nil, count: count)
        remaining = count
        if count == 0 { done.signal() }
    }

    /// Called under the pool's lock.
    func deliver(_ answer: WorkerPool.Answer, at index: Int) {
        guard results[index] == nil, failure == nil else { return }
        results[index] = answer
        remaining -= 1
        if remaining == 0 { done.signal() }
    }

    func fail(_ error: any Error) {
        guard failure == nil, remaining > 0 else { return }
        failure = error
        done.signal()
    }

    func wait() throws -> [WorkerPool.Answer] {
        done.wait()  // signalled exactly once: all delivered, or the first failure
        if let failure { throw failure }
        return results.map { $0! }
    }
}

/// A job's steps stop because the coordinator is shutting down (the job resumes when it restarts).
public struct CoordinatorStopping: Error, CustomStringConvertible {
    public var description: String { "the coordinator is stopping" }
}

/// A job's steps stop because the job was cancelled.
public struct JobCancelled: Error, CustomStringConvertible {
    public let job: String
    public var description: String { "job \(job) was cancelled" }
}
