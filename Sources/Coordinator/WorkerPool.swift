import Foundation
import Jobs
import Logging
import Synchronization
import Transport
import Wire

/// The coordinator's side of the worker protocol: registers workers, hands shard tasks to those with credit,
/// collects each shard's result at most once, re-queues the tasks of workers that fail or fall silent, and
/// serves blobs. Jobs call `run(_:)` from their own thread and block until every shard of the group is in.
/// With no worker connected a group waits; it never fails for lack of workers.
public final class WorkerPool: Sendable {
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
        /// Workers send gradients as their backward pass finishes them, in messages of at least this many bytes,
        /// so that the largest travel while the rest is computed (0: all with the result).
        public var gradientPartBytes = defaultPartBytes
        /// A worker that takes weight parts gets a task with its first layers' weights, up to this many bytes, and
        /// the rest in messages of at most as many (a larger tensor alone), so that it computes while they travel
        /// (0: all with the task).
        public var weightPartBytes = defaultPartBytes
        public static let defaultPartBytes = 256 << 10

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
    private let dispatch: Mutex<WorkerDispatch>

    public init(
        transport: Transport, blobs: BlobStore, settings: Settings,
        logger: Logger = Logger(label: "lethe.pool", factory: SwiftLogNoOpLogHandler.init),
        onWorkerJoined: @escaping @Sendable (WorkerInfo) -> Void = { _ in },
        onRefusal: @escaping @Sendable (_ peer: Peer, _ reason: String, _ message: String) -> Void = { _, _, _ in }
    ) {
        self.settings = settings
        dispatch = Mutex(
            WorkerDispatch(
                settings: settings, transport: transport, blobs: blobs, logger: logger, onRefusal: onRefusal,
                onWorkerJoined: onWorkerJoined))
    }

    /// Starts serving the transport's messages and the heartbeat timer.
    public func start() {
        startServing(dispatch.withLock { $0.transport }, heartbeatMilliseconds: settings.heartbeatMilliseconds)
    }

    public func stop() { dispatch.withLock { $0.stop() } }

    /// Computes every task (one per shard) and returns their results in the order given.
    public func run(_ tasks: [Task], weights: [NamedTensor]) throws -> [Answer] {
        let group = Gathering<Int, Answer>(expecting: tasks.indices)
        try dispatch.withLock { try $0.enqueue(tasks, weights: weights, group: group) }
        let answers = try group.wait()
        return tasks.indices.map { answers[$0]! }
    }

    /// Stops a job's tasks: queued ones are dropped, waiting steps fail with `JobCancelled`, later ones too.
    public func cancel(job: String) { dispatch.withLock { $0.cancel(job: job) } }

    public var workerList: [WorkerInfo] { dispatch.withLock { $0.workerList } }

    /// Bytes sent and received on the worker socket so far (all frames).
    public var bytesMoved: Int { dispatch.withLock { $0.peers.bytesSent + $0.peers.bytesReceived } }

    /// How many of a job's shard results each authenticated key computed.
    public func resultCounts(job: String) -> [String: Int] { dispatch.withLock { $0.resultsByKey[job] ?? [:] } }

    /// Messages refused so far, by reason (for logs and tests).
    public var refusalCounts: [String: Int] { dispatch.withLock { $0.peers.refusals } }
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

extension WorkerPool: PeerEndpointOwner {
    func withState(_ body: (inout WorkerDispatch) -> Void) { dispatch.withLock { body(&$0) } }
}
