import Data
import Foundation
import Jobs
import Logging
import ServiceLifecycle
import Synchronization
import Tensor
import Transport
import Wire

/// A worker's side of the protocol: introduces itself, asks for one task at a time, downloads the blobs a task
/// needs (resumable, checked by hash, cached), computes on its own thread and answers. It says hello again when
/// the coordinator stops hearing it or goes silent, so it survives coordinator restarts.
public final class WorkerNode: CoordinatorLinked, Sendable {
    let transport: Transport
    let logger: Logger
    private let computer: ShardComputer
    private let blobs: BlobStore
    private let cacheMaxBytes: Int64?
    /// Computes one task at a time on a thread of its own, off Swift's cooperative pool (long synchronous work
    /// there would starve the node's other tasks, the heartbeat among them).
    private let compute = DispatchQueue(label: "lethe.worker.compute")
    /// Whether a task's kernels all stay on that thread (a hello with one thread): for workers that share a
    /// process's cores with others, one core each, instead of each spreading over all of them.
    private let computesSerially: Bool
    let state: Mutex<State>

    struct State: CoordinatorLinkedState {
        var link: CoordinatorLink<WorkerToCoordinator>
        /// Tasks in arrival order, with their request ids and tensors (more may follow); the first one is downloading
        /// or computing.
        var tasks: [(requestID: UInt64, task: ShardTask, arrival: WeightsArrival)] = []
        var computing = false
        var tasksDone = 0
    }

    /// `cacheMaxBytes`: how much downloaded blobs may hold (least recently used first out; nil: unbounded).
    public init(
        transport: Transport, blobs: BlobStore, hello: Hello, cacheMaxBytes: Int64? = nil,
        logger: Logger = Logger(label: "lethe.worker", factory: SwiftLogNoOpLogHandler.init)
    ) {
        self.transport = transport
        self.cacheMaxBytes = cacheMaxBytes
        self.logger = logger
        self.blobs = blobs
        computer = ShardComputer(blobs: blobs)
        computesSerially = hello.threads <= 1
        var hello = hello
        hello.takesWeightParts = true
        state = Mutex(State(link: CoordinatorLink(transport: transport, hello: hello)))
    }

    /// Shard tasks computed so far.
    public var tasksDone: Int { state.withLock { $0.tasksDone } }

    /// Serves until the transport closes, the task is cancelled or a graceful shutdown (then says goodbye).
    public func run() async { await serveUntilShutdown() }

    /// See `ShardComputer.adopt`.
    public func adopt(_ dataset: Dataset, sha256: String) { computer.adopt(dataset, sha256: sha256) }

    func receive(_ envelope: Envelope<CoordinatorToWorker>, _ state: inout State) {
        switch envelope.message {
        case .welcome(let welcome):
            // A welcome after the first means the coordinator had dropped us (or restarted) and re-queued
            // what we held: forget those tasks, or one stuck waiting for a blob chunk would block us forever. The
            // one computing stops waiting for the rest of its weights.
            if state.computing {
                state.tasks.first?.arrival.fail(ProtocolError(.badRequest, "the coordinator dropped the task"))
            }
            state.tasks = state.computing ? Array(state.tasks.prefix(1)) : []
            let ours = state.link.hello.kernelIdentity
            if welcome.coordinatorKernelIdentity != ours {
                log("the coordinator's BLAS kernels are \(welcome.coordinatorKernelIdentity), ours \(ours)")
            }
            transport.send(Envelope(WorkerToCoordinator.ready(credit: 1)), to: nil)
        case .heartbeat:
            break
        case .shardTask(let task):
            state.tasks.append((envelope.requestID, task, WeightsArrival(envelope.tensors)))
            if state.tasks.count == 1 { fetchOrCompute(&state) }
        case .shardTaskWeights(let id):
            guard let entry = state.tasks.first(where: { $0.requestID == envelope.requestID && $0.task.id == id })
            else {
                log("weights for task \(id), which this worker does not hold", .warning)
                return
            }
            do throws(ProtocolError) {
                try entry.arrival.add(envelope.tensors)
            } catch {
                entry.arrival.fail(error)
            }
        case .blobChunk(let chunk):
            store(chunk, requestID: envelope.requestID, &state)
        case .error(let error):
            if !state.computing, let first = state.tasks.first, first.requestID == envelope.requestID {
                state.tasks.removeFirst()
                answer(Envelope(.error(error), requestID: first.requestID))
                fetchOrCompute(&state)
            } else {
                log("coordinator: \(error.message)", .warning)
            }
        }
    }

    /// Requests the next missing blob of the first task, or computes it once everything is here.
    private func fetchOrCompute(_ state: inout State) {
        guard !state.computing, let (requestID, task, arrival) = state.tasks.first else { return }
        if let missing = computer.missingBlobs(for: task.context).first {
            transport.send(
                Envelope(
                    WorkerToCoordinator.blobRequest(BlobRequest(sha256: missing, offset: blobs.partialLength(missing))),
                    requestID: requestID), to: nil)
            return
        }
        for sha256 in [task.context.datasetSHA256, task.context.originalSHA256] { blobs.markUsed(sha256) }
        state.computing = true
        compute.async { [self] in
            func run() -> Envelope<WorkerToCoordinator> {
                do throws(ProtocolError) {
                    var result = try computer.run(task, arrival: arrival) { gradients in
                        transport.send(
                            Envelope(
                                WorkerToCoordinator.shardResultPart(task.id), requestID: requestID, tensors: gradients),
                            to: nil)
                    }
                    result.requestID = requestID
                    return result
                } catch {
                    return Envelope(.error(error), requestID: requestID)
                }
            }
            let reply = computesSerially ? Parallel.serially(run) : run()
            withState { state in
                if case .shardResult = reply.message { state.tasksDone += 1 }
                state.computing = false
                state.tasks.removeFirst()
                answer(reply)
                fetchOrCompute(&state)
            }
        }
    }

    private func store(_ chunk: BlobChunk, requestID: UInt64, _ state: inout State) {
        guard !state.computing, state.tasks.first?.requestID == requestID else { return }
        do {
            let complete = try blobs.append(
                chunk.sha256, offset: chunk.offset, total: chunk.totalBytes, bytes: chunk.data)
            if complete, let cacheMaxBytes, let context = state.tasks.first?.task.context {
                let pruning = blobs.prune(
                    toAtMost: cacheMaxBytes, sparing: [context.datasetSHA256, context.originalSHA256])
                if pruning.removed > 0 {
                    log("cache: removed \(pruning.removed) least recently used blobs (\(pruning.freedBytes) bytes)")
                }
            }
        } catch {
            state.tasks.removeFirst()
            answer(Envelope(.error(ProtocolError(.unknownBlob, "\(error)")), requestID: requestID))
        }
        fetchOrCompute(&state)
    }

    /// Sends a task's answer and asks for the next task.
    private func answer(_ envelope: Envelope<WorkerToCoordinator>) {
        transport.send(envelope, to: nil)
        transport.send(Envelope(WorkerToCoordinator.ready(credit: 1)), to: nil)
    }
}

extension WorkerNode: Service {}
