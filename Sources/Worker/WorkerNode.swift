import Foundation
import Jobs
import Logging
import ServiceLifecycle
import Transport
import Wire

/// A worker's side of the protocol: introduces itself, asks for one task at a time, downloads the blobs a task
/// needs (resumable, checked by hash, cached), computes on its own thread and answers. It says hello again when
/// the coordinator stops hearing it or goes silent, so it survives coordinator restarts.
public final class WorkerNode: CoordinatorLinked, @unchecked Sendable {
    let transport: Transport
    private let computer: ShardComputer
    private let blobs: BlobStore
    let lock = NSLock()
    private let compute = DispatchQueue(label: "lethe.worker.compute")
    var link: CoordinatorLink<WorkerToCoordinator>
    /// Tasks in arrival order, with their request ids and tensors; the first one is downloading or computing.
    private var tasks: [(requestID: UInt64, task: ShardTask, tensors: [NamedTensor])] = []
    private var computing = false
    public private(set) var tasksDone = 0
    let logger: Logger

    public init(
        transport: Transport, blobs: BlobStore, hello: Hello,
        logger: Logger = Logger(label: "lethe.worker", factory: SwiftLogNoOpLogHandler.init)
    ) {
        self.transport = transport
        self.logger = logger
        self.blobs = blobs
        link = CoordinatorLink(transport: transport, hello: hello)
        computer = ShardComputer(blobs: blobs)
    }

    /// Serves until the transport closes, the task is cancelled or a graceful shutdown (then says goodbye).
    public func run() async { await serveUntilShutdown() }

    func receive(_ envelope: Envelope<CoordinatorToWorker>) {
        switch envelope.message {
        case .welcome(let welcome):
            link.welcomed(welcome)
            // A welcome after the first means the coordinator had dropped us (or restarted) and re-queued
            // what we held: forget those tasks, or one stuck waiting for a blob chunk would block us forever.
            tasks = computing ? Array(tasks.prefix(1)) : []
            if welcome.coordinatorKernelIdentity != link.hello.kernelIdentity {
                log(
                    "the coordinator's BLAS kernels are \(welcome.coordinatorKernelIdentity), ours \(link.hello.kernelIdentity)"
                )
            }
            transport.send(Envelope(WorkerToCoordinator.ready(credit: 1)), to: nil)
        case .heartbeat:
            break
        case .shardTask(let task):
            start(task, requestID: envelope.requestID, tensors: envelope.tensors)
        case .blobChunk(let chunk):
            store(chunk, requestID: envelope.requestID)
        case .error(let error):
            if !computing, let first = tasks.first, first.requestID == envelope.requestID {
                tasks.removeFirst()
                answer(Envelope(.error(error), requestID: first.requestID))
                fetchOrCompute()
            } else {
                log("coordinator: \(error.message)", .warning)
            }
        }
    }

    private func start(_ task: ShardTask, requestID: UInt64, tensors: [NamedTensor]) {
        tasks.append((requestID, task, tensors))
        if tasks.count == 1 { fetchOrCompute() }
    }

    /// Requests the next missing blob of the first task, or computes it once everything is here.
    private func fetchOrCompute() {
        guard !computing, let (requestID, task, tensors) = tasks.first else { return }
        if let missing = computer.missingBlobs(for: task.context).first {
            transport.send(
                Envelope(
                    WorkerToCoordinator.blobRequest(BlobRequest(sha256: missing, offset: blobs.partialLength(missing))),
                    requestID: requestID), to: nil)
            return
        }
        computing = true
        compute.async { [self] in
            let reply: Envelope<WorkerToCoordinator>
            do throws(ProtocolError) {
                var result = try computer.run(task, tensors: tensors)
                result.requestID = requestID
                reply = result
            } catch {
                reply = Envelope(.error(error), requestID: requestID)
            }
            lock.withLock {
                if case .shardResult = reply.message { tasksDone += 1 }
                computing = false
                tasks.removeFirst()
                answer(reply)
                fetchOrCompute()
            }
        }
    }

    private func store(_ chunk: BlobChunk, requestID: UInt64) {
        guard !computing, tasks.first?.requestID == requestID else { return }
        do {
            _ = try blobs.append(chunk.sha256, offset: chunk.offset, total: chunk.totalBytes, bytes: chunk.data)
        } catch {
            tasks.removeFirst()
            answer(Envelope(.error(ProtocolError(.unknownBlob, "\(error)")), requestID: requestID))
        }
        fetchOrCompute()
    }

    /// Sends a task's answer and asks for the next task.
    private func answer(_ envelope: Envelope<WorkerToCoordinator>) {
        transport.send(envelope, to: nil)
        transport.send(Envelope(WorkerToCoordinator.ready(credit: 1)), to: nil)
    }
}

extension WorkerNode: Service {}
