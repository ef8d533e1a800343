/// What a federated client sends the coordinator.
public enum ClientToCoordinator: WireMessage {
    case hello(Hello)
    case heartbeat
    case goodbye(reason: String)
    /// The answer to a round task.
    case roundUpdate(RoundUpdate)
    /// A round task the client could not do (the reply to it), or a complaint.
    case error(ProtocolError)

    public static func refusal(of kind: String) -> ProtocolError {
        ProtocolError(.badRequest, "a client does not send \(kind)")
    }

    public var body: WireBody {
        switch self {
        case .hello(let hello): WireBody(.hello(hello))
        case .heartbeat: WireBody(.heartbeat)
        case .goodbye(let reason): WireBody(.goodbye(reason: reason))
        case .roundUpdate(let update): WireBody(.round(.update(update)))
        case .error(let error): WireBody(.error(error))
        }
    }

    public init?(_ body: WireBody) {
        switch body.value {
        case .hello(let hello): self = .hello(hello)
        case .heartbeat: self = .heartbeat
        case .goodbye(let reason): self = .goodbye(reason: reason)
        case .round(.update(let update)): self = .roundUpdate(update)
        case .error(let error): self = .error(error)
        case .welcome, .ready, .shardTask, .shardResult, .shardResultPart, .shardTaskWeights, .blobRequest, .blobChunk,
            .round(.task),
            .control:
            return nil
        }
    }
}

/// What the coordinator sends a federated client.
public enum CoordinatorToClient: WireMessage {
    case welcome(Welcome)
    case heartbeat
    /// Work for one round; the reply (same request id) is a round update or an error.
    case roundTask(RoundTask)
    case error(ProtocolError)

    public static func refusal(of kind: String) -> ProtocolError {
        ProtocolError(.badRequest, "the coordinator does not send a client \(kind)")
    }

    public var body: WireBody {
        switch self {
        case .welcome(let welcome): WireBody(.welcome(welcome))
        case .heartbeat: WireBody(.heartbeat)
        case .roundTask(let task): WireBody(.round(.task(task)))
        case .error(let error): WireBody(.error(error))
        }
    }

    public init?(_ body: WireBody) {
        switch body.value {
        case .welcome(let welcome): self = .welcome(welcome)
        case .heartbeat: self = .heartbeat
        case .round(.task(let task)): self = .roundTask(task)
        case .error(let error): self = .error(error)
        case .hello, .ready, .goodbye, .shardTask, .shardResult, .shardResultPart, .shardTaskWeights, .blobRequest,
            .blobChunk,
            .round(.update), .control:
            return nil
        }
    }
}
