import Foundation
import Jobs
import Logging
import Transport
import Wire

/// The worker pool's state, behind its `Mutex` (DESIGN §5): the registered workers (`PeerEndpoint`), the queue of
/// shard tasks, the tasks handed out and waiting for a result, and what it counts. It hands queued tasks to workers
/// with credit, takes each shard's result at most once, and re-queues the tasks of workers that fail or fall
/// silent.
struct WorkerDispatch: PeerEndpoint {
    typealias Inbound = WorkerToCoordinator
    typealias Outbound = CoordinatorToWorker

    static var role: String { "worker" }
    let settings: WorkerPool.Settings
    let transport: Transport
    let blobs: BlobStore
    let logger: Logger
    let onRefusal: @Sendable (_ peer: Peer, _ reason: String, _ message: String) -> Void
    /// Called when a worker says hello.
    let onWorkerJoined: @Sendable (WorkerPool.WorkerInfo) -> Void
    var peers: PeerTable<WorkerState>
    private var queue: [Pending] = []
    private var dispatched: [UInt64: Pending] = [:]
    private var cancelledJobs = Set<String>()
    private(set) var resultsByKey: [String: [String: Int]] = [:]
    /// Set by `stop()`: every later step fails with `CoordinatorStopping`.
    private var stopped = false
    /// The frames of the last weights sent, by version: every worker that needs them gets the same bytes, encoded
    /// once.
    private var weightFrames: (version: String, frames: [FramePayload])?

    init(
        settings: WorkerPool.Settings, transport: Transport, blobs: BlobStore, logger: Logger,
        onRefusal: @escaping @Sendable (_ peer: Peer, _ reason: String, _ message: String) -> Void,
        onWorkerJoined: @escaping @Sendable (WorkerPool.WorkerInfo) -> Void
    ) {
        self.settings = settings
        self.transport = transport
        self.blobs = blobs
        self.logger = logger
        self.onRefusal = onRefusal
        self.onWorkerJoined = onWorkerJoined
        peers = PeerTable(
            heartbeatMilliseconds: settings.heartbeatMilliseconds, liveness: settings.liveness,
            kernelIdentity: settings.kernelIdentity)
    }

    /// Stops serving; every waiting and later step fails with `CoordinatorStopping`.
    mutating func stop() {
        peers.tasks.forEach { $0.cancel() }
        stopped = true
        for pending in queue + Array(dispatched.values) { pending.group.fail(CoordinatorStopping()) }
    }

    mutating func enqueue(
        _ tasks: [WorkerPool.Task], weights: [NamedTensor], group: Gathering<Int, WorkerPool.Answer>
    ) throws {
        if stopped { throw CoordinatorStopping() }
        if let job = tasks.first?.id.job, cancelledJobs.contains(job) { throw JobCancelled(job: job) }
        queue += tasks.enumerated().map { Pending(task: $1, index: $0, group: group, weights: weights) }
        dispatch()
    }

    mutating func cancel(job: String) {
        cancelledJobs.insert(job)
        for pending in queue + Array(dispatched.values) where pending.task.id.job == job {
            pending.group.fail(JobCancelled(job: job))
        }
        queue.removeAll { $0.task.id.job == job }
        let dropped = Set(dispatched.filter { $0.value.task.id.job == job }.keys)
        dispatched = dispatched.filter { !dropped.contains($0.key) }
        for worker in peers.members.values { worker.inFlight.subtract(dropped) }
    }

    var workerList: [WorkerPool.WorkerInfo] { peers.members.values.map(info).sorted { $0.name < $1.name } }

    private func info(_ worker: Member<WorkerState>) -> WorkerPool.WorkerInfo {
        WorkerPool.WorkerInfo(
            peer: worker.peer, name: worker.name, kernelIdentity: worker.details.kernelIdentity,
            kernelMatches: worker.details.kernelMatches, credit: worker.details.credit,
            inFlight: worker.inFlight.count, tasksDone: worker.details.tasksDone, lastSeen: worker.lastSeen)
    }

    // MARK: messages

    mutating func admit(_ peer: Peer, _ hello: Hello) -> WorkerState? {
        let worker = WorkerState(
            kernelIdentity: hello.kernelIdentity, kernelMatches: hello.kernelIdentity == settings.kernelIdentity,
            takesWeightParts: hello.takesWeightParts)
        onWorkerJoined(
            WorkerPool.WorkerInfo(
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

    mutating func receive(_ envelope: Envelope<WorkerToCoordinator>, from worker: Member<WorkerState>) {
        switch envelope.message {
        case .hello, .heartbeat, .goodbye:
            break  // the endpoint's
        case .ready(let credit):
            worker.details.credit = min(worker.details.credit + credit, 64)
            dispatch()
        case .shardResult(let report):
            accept(envelope, report: report, from: worker)
        case .shardResultPart(let id):
            acceptPart(envelope, id: id, from: worker)
        case .error(let error):
            failed(requestID: envelope.requestID, worker: worker, error)
        case .blobRequest(let request):
            serve(request, requestID: envelope.requestID, to: worker.peer)
        }
    }

    private mutating func accept(
        _ envelope: Envelope<WorkerToCoordinator>, report: ShardReport, from worker: Member<WorkerState>
    ) {
        guard let pending = dispatched[envelope.requestID], pending.isAttempt(at: report.id) else {
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
        let answer = WorkerPool.Answer(report: report, tensors: pending.parts + envelope.tensors)
        if let problem = Pending.repeatedName(in: answer.tensors) ?? pending.task.validate(answer) {
            reject(pending, requestID: envelope.requestID, from: worker, "a bad result", problem)
            return
        }
        worker.details.tasksDone += 1
        resultsByKey[report.id.job, default: [:]][worker.peer.key ?? "insecure", default: 0] += 1
        pending.group.deliver(answer, for: pending.index)
    }

    /// Gradients a worker sends ahead of its result: kept with the task until the result comes. A part for a task
    /// the worker does not hold is refused; one that repeats a gradient or holds more than the step's weights do
    /// fails the attempt like a bad result.
    private mutating func acceptPart(
        _ envelope: Envelope<WorkerToCoordinator>, id: TaskID, from worker: Member<WorkerState>
    ) {
        guard var pending = dispatched[envelope.requestID], worker.inFlight.contains(envelope.requestID),
            pending.isAttempt(at: id), case .gradient = pending.task.work
        else {
            if cancelledJobs.contains(id.job) { return }
            refuse(
                worker.peer, requestID: envelope.requestID, code: .unknownTask,
                "no gradient task \(id) of yours is waiting for a result", reason: "unknown task")
            return
        }
        pending.parts += envelope.tensors
        let elements = { (tensors: [NamedTensor]) in tensors.reduce(0) { $0 + $1.tensor.count } }
        let problem =
            Pending.repeatedName(in: pending.parts)
            ?? (elements(pending.parts) > elements(pending.weights) ? "its gradients hold more than the weights" : nil)
        guard let problem else {
            dispatched[envelope.requestID] = pending
            return
        }
        dispatched[envelope.requestID] = nil
        worker.inFlight.remove(envelope.requestID)
        reject(pending, requestID: envelope.requestID, from: worker, "a bad result part", problem)
    }

    /// Refuses what `worker` sent for a task (no longer dispatched) and queues the task again, elsewhere if it can.
    private mutating func reject(
        _ pending: Pending, requestID: UInt64, from worker: Member<WorkerState>, _ what: String, _ problem: String
    ) {
        refuse(worker.peer, requestID: requestID, code: .badShape, problem, reason: "bad result")
        var pending = pending
        pending.excluded.insert(worker.peer)
        retry(pending, because: "\(worker.name) sent \(what): \(problem)")
    }

    private mutating func failed(requestID: UInt64, worker: Member<WorkerState>, _ error: ProtocolError) {
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
    private mutating func retry(_ pending: Pending, because reason: String, blamingTheTask: Bool = true) {
        var pending = pending
        pending.task.id.attempt += 1
        pending.parts = []
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

    private mutating func serve(_ request: BlobRequest, requestID: UInt64, to peer: Peer) {
        do {
            send(.blobChunk(try blobs.chunk(for: request)), requestID: requestID, to: peer)
        } catch {
            refuse(peer, requestID: requestID, code: .unknownBlob, "\(error)", reason: "unknown blob")
        }
    }

    /// A worker that left or fell silent: its tasks go to others.
    mutating func departed(_ worker: Member<WorkerState>, because reason: String) {
        for requestID in worker.inFlight.sorted().reversed() {
            if let pending = dispatched.removeValue(forKey: requestID) {
                retry(pending, because: "worker \(worker.name) \(reason)", blamingTheTask: false)
            }
        }
    }

    mutating func ticked() { dispatch() }

    // MARK: dispatch

    /// Hands queued tasks, oldest first, to eligible workers with credit (least in flight first). A task does
    /// not go back to a worker that failed it while any other eligible worker exists.
    private mutating func dispatch() {
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
            let weights =
                !context.weightsIncluded
                ? []
                : worker.details.takesWeightParts
                    ? Self.parts(of: pending.weights, bytes: settings.weightPartBytes) : [pending.weights]
            var frames = context.weightsIncluded ? encodedWeights(pending.weights, version: context.weightsVersion) : []
            let requestID = peers.nextRequestID()
            dispatched[requestID] = pending
            worker.inFlight.insert(requestID)
            worker.details.credit -= 1
            worker.details.weights = context.weightsVersion
            let first = weights.first ?? []
            send(
                .shardTask(
                    ShardTask(
                        id: pending.task.id, context: context, work: pending.task.work,
                        gradientPartBytes: settings.gradientPartBytes)),
                requestID: requestID, tensors: first + pending.task.tensors,
                encodedTensors: Array(frames.prefix(first.count)), to: worker.peer)
            frames.removeFirst(first.count)
            for part in weights.dropFirst() {
                send(
                    .shardTaskWeights(pending.task.id), requestID: requestID, tensors: part,
                    encodedTensors: Array(frames.prefix(part.count)), to: worker.peer)
                frames.removeFirst(part.count)
            }
        }
    }

    /// The frames of `weights` (version `version`): those of the last weights sent when they are the same version,
    /// else encoded now and kept for the next worker.
    private mutating func encodedWeights(_ weights: [NamedTensor], version: String) -> [FramePayload] {
        if let weightFrames, weightFrames.version == version, weightFrames.frames.count == weights.count {
            return weightFrames.frames
        }
        let frames = weights.map { FramePayload($0.tensor) }
        weightFrames = (version, frames)
        return frames
    }

    /// `weights` in order, cut into runs of at most `bytes` (a larger tensor is a run of its own); one run when
    /// `bytes` is 0.
    static func parts(of weights: [NamedTensor], bytes: Int) -> [[NamedTensor]] {
        guard bytes > 0 else { return [weights] }
        var runs: [[NamedTensor]] = []
        var size = 0
        for named in weights {
            let tensorBytes = named.tensor.count * MemoryLayout<Float>.size
            if runs.isEmpty || size + tensorBytes > bytes {
                runs.append([])
                size = 0
            }
            runs[runs.count - 1].append(named)
            size += tensorBytes
        }
        return runs
    }
}

/// What the pool keeps about a registered worker (guarded by its lock).
struct WorkerState {
    let kernelIdentity: String
    let kernelMatches: Bool
    /// It computes while the rest of a task's weights arrive (`shardTaskWeights`).
    let takesWeightParts: Bool
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
    /// Gradients the current attempt's worker sent ahead of its result.
    var parts: [NamedTensor] = []

    /// Whether `id` names this task's shard (of any attempt).
    func isAttempt(at id: TaskID) -> Bool {
        task.id.job == id.job && task.id.step == id.step && task.id.shard == id.shard
    }

    /// Why `tensors` cannot be one result: a name that comes twice (nil when none does).
    static func repeatedName(in tensors: [NamedTensor]) -> String? {
        var names = Set<String>()
        return tensors.first { !names.insert($0.name).inserted }.map { "it sends '\($0.name)' twice" }
    }
}
