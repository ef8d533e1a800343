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
    static var role: String { "worker" }
    let transport: Transport
    let lock = NSLock()
    var peers: PeerTable<WorkerState>
    let logger: Logger
    let onRefusal: @Sendable (_ peer: Peer, _ reason: String, _ message: String) -> Void
    /// Called (under the pool's lock) when a worker says hello.
    private let onWorkerJoined: @Sendable (WorkerInfo) -> Void
    private let blobs: BlobStore
    private var queue: [Pending] = []
    private var dispatched: [UInt64: Pending] = [:]
    private var cancelledJobs = Set<String>()
    private var resultsByKey: [String: [String: Int]] = [:]
    /// Set by `stop()`: every later step fails with `CoordinatorStopping`.
    private var stopped = false

    public init(
        transport: Transport, blobs: BlobStore, settings: Settings,
        logger: Logger = Logger(label: "lethe.pool", factory: SwiftLogNoOpLogHandler.init),
        onWorkerJoined: @escaping @Sendable (WorkerInfo) -> Void = { _ in },
        onRefusal: @escaping @Sendable (_ peer: Peer, _ reason: String, _ message: String) -> Void = { _, _, _ in }
    ) {
        self.transport = transport
        self.blobs = blobs
        self.settings = settings
        self.logger = logger
        self.onWorkerJoined = onWorkerJoined
        self.onRefusal = onRefusal
        peers = PeerTable(
            heartbeatMilliseconds: settings.heartbeatMilliseconds, liveness: settings.liveness,
            kernelIdentity: settings.kernelIdentity)
    }

    /// Starts serving the transport's messages and the heartbeat timer.
    public func start() { startServing() }

    public func stop() {
        stopServing {
            stopped = true
            for pending in queue + Array(dispatched.values) { pending.group.fail(CoordinatorStopping()) }
        }
    }

    /// Computes every task (one per shard) and returns their results in the order given.
    public func run(_ tasks: [Task], weights: [NamedTensor]) throws -> [Answer] {
        let group = Gathering<Int, Answer>(expecting: tasks.indices)
        try lock.withLock {
            if stopped { throw CoordinatorStopping() }
            if let job = tasks.first?.id.job, cancelledJobs.contains(job) { throw JobCancelled(job: job) }
            queue += tasks.enumerated().map { Pending(task: $1, index: $0, group: group, weights: weights) }
            dispatch()
        }
        let answers = try group.wait()
        return tasks.indices.map { answers[$0]! }
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
            for worker in peers.members.values { worker.inFlight.subtract(dropped) }
        }
    }

    public var workerList: [WorkerInfo] {
        lock.withLock { peers.members.values.map(info).sorted { $0.name < $1.name } }
    }

    /// Bytes sent and received on the worker socket so far (all frames).
    public var bytesMoved: Int { lock.withLock { peers.bytesSent + peers.bytesReceived } }

    /// How many of a job's shard results each authenticated key computed.
    public func resultCounts(job: String) -> [String: Int] { lock.withLock { resultsByKey[job] ?? [:] } }

    /// Messages refused so far, by reason (for logs and tests).
    public var refusalCounts: [String: Int] { lock.withLock { peers.refusals } }

    private func info(_ worker: Member<WorkerState>) -> WorkerInfo {
        WorkerInfo(
            peer: worker.peer, name: worker.name, kernelIdentity: worker.details.kernelIdentity,
            kernelMatches: worker.details.kernelMatches, credit: worker.details.credit,
            inFlight: worker.inFlight.count, tasksDone: worker.details.tasksDone, lastSeen: worker.lastSeen)
    }

    // MARK: messages

    func admit(_ peer: Peer, _ hello: Hello) -> WorkerState? {
        let worker = WorkerState(
            kernelIdentity: hello.kernelIdentity, kernelMatches: hello.kernelIdentity == settings.kernelIdentity)
        onWorkerJoined(
            WorkerInfo(
                peer: peer, name: hello.name, kernelIdentity: hello.kernelIdentity, kernelMatches: worker.kernelMatches,
                credit: 0, inFlight: 0, tasksDone: 0, lastSeen: Date()))
        if !worker.kernelMatches {
            log(
                "worker \(hello.name) uses BLAS kernels \(hello.kernelIdentity), not \(settings.kernelIdentity): "
                    + (settings.allowMixedKernels ? "mixing them (results differ in low bits)" : "it gets no tasks"))
            if !settings.allowMixedKernels {
                // Tell the worker too, or it waits for tasks that never come without knowing why.
                send(
                    .error(
                        ProtocolError(
                            .kernelMismatch,
                            "this coordinator uses BLAS kernels \(settings.kernelIdentity), yours are \(hello.kernelIdentity): "
                                + "you get no tasks (results would differ in low bits); run the worker with the same "
                                + "kernels (OPENBLAS_CORETYPE) or start the coordinator with --allow-mixed-kernels")),
                    to: peer)
            }
        }
        return worker
    }

    func receive(_ envelope: Envelope<WorkerToCoordinator>, from worker: Member<WorkerState>) {
        switch envelope.message {
        case .hello, .heartbeat, .goodbye:
            break  // the endpoint's
        case .ready(let credit):
            worker.details.credit = min(worker.details.credit + credit, 64)
            dispatch()
        case .shardResult(let report):
            accept(envelope, report: report, from: worker)
        case .error(let error):
            failed(requestID: envelope.requestID, worker: worker, error)
        case .blobRequest(let request):
            serve(request, requestID: envelope.requestID, to: worker.peer)
        }
    }

    private func accept(
        _ envelope: Envelope<WorkerToCoordinator>, report: ShardReport, from worker: Member<WorkerState>
    ) {
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
        worker.details.tasksDone += 1
        resultsByKey[report.id.job, default: [:]][worker.peer.key ?? "insecure", default: 0] += 1
        pending.group.deliver(answer, for: pending.index)
    }

    private func failed(requestID: UInt64, worker: Member<WorkerState>, _ error: ProtocolError) {
        guard var pending = dispatched.removeValue(forKey: requestID) else {
            log("worker \(worker.name) reported: \(error.message)")
            return
        }
        worker.inFlight.remove(requestID)
        let stale = error.code == .staleWeights
        if stale { worker.details.weights = nil } else { pending.excluded.insert(worker.peer) }
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
            send(.blobChunk(try blobs.chunk(for: request)), requestID: requestID, to: peer)
        } catch {
            refuse(peer, requestID: requestID, code: .unknownBlob, "\(error)", reason: "unknown blob")
        }
    }

    /// A worker that left or fell silent: its tasks go to others.
    func departed(_ worker: Member<WorkerState>, because reason: String) {
        for requestID in worker.inFlight.sorted().reversed() {
            if let pending = dispatched.removeValue(forKey: requestID) {
                retry(pending, because: "worker \(worker.name) \(reason)", blamingTheTask: false)
            }
        }
    }

    func ticked() { dispatch() }

    // MARK: dispatch

    /// Hands queued tasks, oldest first, to eligible workers with credit (least in flight first). A task does
    /// not go back to a worker that failed it while any other eligible worker exists.
    private func dispatch() {
        let eligible = peers.members.values.filter { $0.details.kernelMatches || settings.allowMixedKernels }
        var index = 0
        while index < queue.count {
            let fresh = eligible.filter { !queue[index].excluded.contains($0.peer) }
            guard
                let worker = (fresh.isEmpty ? eligible : fresh).filter({ $0.details.credit > 0 }).min(by: {
                    ($0.inFlight.count, -$0.details.credit, $0.name) < ($1.inFlight.count, -$1.details.credit, $1.name)
                })
            else {
                if !eligible.contains(where: { $0.details.credit > 0 }) { return }
                index += 1
                continue
            }
            let pending = queue.remove(at: index)
            var context = pending.task.context
            context.weightsIncluded = worker.details.weights != context.weightsVersion
            let tensors = (context.weightsIncluded ? pending.weights : []) + pending.task.tensors
            let requestID = peers.nextRequestID()
            dispatched[requestID] = pending
            worker.inFlight.insert(requestID)
            worker.details.credit -= 1
            worker.details.weights = context.weightsVersion
            send(
                .shardTask(ShardTask(id: pending.task.id, context: context, work: pending.task.work)),
                requestID: requestID, tensors: tensors, to: worker.peer)
        }
    }
}

extension WorkerPool: PeerEndpoint {
    typealias Inbound = WorkerToCoordinator
    typealias Outbound = CoordinatorToWorker
}

/// What the pool keeps about a registered worker (guarded by its lock).
struct WorkerState {
    let kernelIdentity: String
    let kernelMatches: Bool
    var credit = 0
    var tasksDone = 0
    /// The weights version the worker's replica holds (as far as we know).
    var weights: String?
}

private struct Pending {
    var task: WorkerPool.Task
    let index: Int
    let group: Gathering<Int, WorkerPool.Answer>
    /// The step's weights (sent along with the task to a worker that lacks them).
    let weights: [NamedTensor]
    /// Attempts that failed because of the task itself.
    var failures = 0
    /// Workers that failed this task (it goes elsewhere when it can).
    var excluded = Set<Peer>()
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
