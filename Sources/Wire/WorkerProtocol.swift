/// What a worker sends the coordinator.
public enum WorkerToCoordinator: WireMessage {
    case hello(Hello)
    /// Room for `credit` more shard tasks.
    case ready(credit: Int)
    case heartbeat
    case goodbye(reason: String)
    case shardResult(ShardReport)
    /// Parameter gradients of a task, sent before its result (the task's request id) as the backward pass finishes
    /// them, when the task asked for parts.
    case shardResultPart(TaskID)
    case blobRequest(BlobRequest)
    /// A task the worker could not compute (the reply to its shard task), or a complaint.
    case error(ProtocolError)

    public static func refusal(of kind: String) -> ProtocolError {
        ProtocolError(.badRequest, "a worker does not send \(kind)")
    }

    public var body: WireBody {
        switch self {
        case .hello(let hello): WireBody(.hello(hello))
        case .ready(let credit): WireBody(.ready(credit: credit))
        case .heartbeat: WireBody(.heartbeat)
        case .goodbye(let reason): WireBody(.goodbye(reason: reason))
        case .shardResult(let report): WireBody(.shardResult(report))
        case .shardResultPart(let id): WireBody(.shardResultPart(id))
        case .blobRequest(let request): WireBody(.blobRequest(request))
        case .error(let error): WireBody(.error(error))
        }
    }

    public init?(_ body: WireBody) {
        switch body.value {
        case .hello(let hello): self = .hello(hello)
        case .ready(let credit): self = .ready(credit: credit)
        case .heartbeat: self = .heartbeat
        case .goodbye(let reason): self = .goodbye(reason: reason)
        case .shardResult(let report): self = .shardResult(report)
        case .shardResultPart(let id): self = .shardResultPart(id)
        case .blobRequest(let request): self = .blobRequest(request)
        case .error(let error): self = .error(error)
        case .welcome, .shardTask, .shardTaskWeights, .blobChunk, .round, .control: return nil
        }
    }
}

/// What the coordinator sends a worker.
public enum CoordinatorToWorker: WireMessage {
    case welcome(Welcome)
    case heartbeat
    /// Work for one shard; the reply (same request id) is a shard result or an error.
    case shardTask(ShardTask)
    /// More of a shard task's weights (its request id), for a worker that takes weight parts.
    case shardTaskWeights(TaskID)
    /// The answer to a blob request.
    case blobChunk(BlobChunk)
    case error(ProtocolError)

    public static func refusal(of kind: String) -> ProtocolError {
        ProtocolError(.badRequest, "the coordinator does not send a worker \(kind)")
    }

    public var body: WireBody {
        switch self {
        case .welcome(let welcome): WireBody(.welcome(welcome))
        case .heartbeat: WireBody(.heartbeat)
        case .shardTask(let task): WireBody(.shardTask(task))
        case .shardTaskWeights(let id): WireBody(.shardTaskWeights(id))
        case .blobChunk(let chunk): WireBody(.blobChunk(chunk))
        case .error(let error): WireBody(.error(error))
        }
    }

    public init?(_ body: WireBody) {
        switch body.value {
        case .welcome(let welcome): self = .welcome(welcome)
        case .heartbeat: self = .heartbeat
        case .shardTask(let task): self = .shardTask(task)
        case .shardTaskWeights(let id): self = .shardTaskWeights(id)
        case .blobChunk(let chunk): self = .blobChunk(chunk)
        case .error(let error): self = .error(error)
        case .hello, .ready, .goodbye, .shardResult, .shardResultPart, .blobRequest, .round, .control: return nil
        }
    }
}
