/// What the CLI asks the coordinator's control endpoint; each request is answered by one `ControlReply` with its
/// request id.
public enum ControlRequest: WireMessage {
    case jobSubmit(JobSpec)
    case jobQuery(id: String)
    case jobList
    case jobCancel(id: String)
    case jobResultRequest(id: String)
    case workerQuery
    /// Uploads: an offer, then the chunks the coordinator does not hold yet.
    case blobOffer(BlobOffer)
    case blobUpload(BlobChunk)
    case blobRequest(BlobRequest)

    public static func refusal(of kind: String) -> ProtocolError {
        ProtocolError(.badRequest, "the control endpoint does not take \(kind) messages")
    }

    public var body: WireBody {
        switch self {
        case .jobSubmit(let spec): WireBody(.control(.jobSubmit(spec)))
        case .jobQuery(let id): WireBody(.control(.jobQuery(id: id)))
        case .jobList: WireBody(.control(.jobList([])))  // the list body, empty
        case .jobCancel(let id): WireBody(.control(.jobCancel(id: id)))
        case .jobResultRequest(let id): WireBody(.control(.jobResultRequest(id: id)))
        case .workerQuery: WireBody(.control(.workerQuery))
        case .blobOffer(let offer): WireBody(.control(.blobOffer(offer)))
        case .blobUpload(let chunk): WireBody(.control(.blobUpload(chunk)))
        case .blobRequest(let request): WireBody(.blobRequest(request))
        }
    }

    public init?(_ body: WireBody) {
        switch body.value {
        case .control(.jobSubmit(let spec)): self = .jobSubmit(spec)
        case .control(.jobQuery(let id)): self = .jobQuery(id: id)
        case .control(.jobList): self = .jobList
        case .control(.jobCancel(let id)): self = .jobCancel(id: id)
        case .control(.jobResultRequest(let id)): self = .jobResultRequest(id: id)
        case .control(.workerQuery): self = .workerQuery
        case .control(.blobOffer(let offer)): self = .blobOffer(offer)
        case .control(.blobUpload(let chunk)): self = .blobUpload(chunk)
        case .blobRequest(let request): self = .blobRequest(request)
        case .control(.jobAccepted), .control(.jobStatus), .control(.jobResult), .control(.workerList),
            .control(.blobStored), .hello, .welcome, .ready, .heartbeat, .goodbye, .shardTask, .shardResult,
            .shardResultPart, .shardTaskWeights,
            .blobChunk, .error, .round:
            return nil
        }
    }
}

/// The coordinator's answer to a control request.
public enum ControlReply: WireMessage {
    case jobAccepted(id: String)
    case jobStatus(JobStatus)
    case jobList([JobStatus])
    case jobResult(JobOutputs)
    case workerList([WorkerSummary])
    /// How much of an offered or uploaded blob the coordinator holds.
    case blobStored(BlobStored)
    case blobChunk(BlobChunk)
    /// The request was refused.
    case error(ProtocolError)

    public static func refusal(of kind: String) -> ProtocolError {
        ProtocolError(.badRequest, "the coordinator does not answer a request with \(kind)")
    }

    public var body: WireBody {
        switch self {
        case .jobAccepted(let id): WireBody(.control(.jobAccepted(id: id)))
        case .jobStatus(let status): WireBody(.control(.jobStatus(status)))
        case .jobList(let jobs): WireBody(.control(.jobList(jobs)))
        case .jobResult(let outputs): WireBody(.control(.jobResult(outputs)))
        case .workerList(let workers): WireBody(.control(.workerList(workers)))
        case .blobStored(let stored): WireBody(.control(.blobStored(stored)))
        case .blobChunk(let chunk): WireBody(.blobChunk(chunk))
        case .error(let error): WireBody(.error(error))
        }
    }

    public init?(_ body: WireBody) {
        switch body.value {
        case .control(.jobAccepted(let id)): self = .jobAccepted(id: id)
        case .control(.jobStatus(let status)): self = .jobStatus(status)
        case .control(.jobList(let jobs)): self = .jobList(jobs)
        case .control(.jobResult(let outputs)): self = .jobResult(outputs)
        case .control(.workerList(let workers)): self = .workerList(workers)
        case .control(.blobStored(let stored)): self = .blobStored(stored)
        case .blobChunk(let chunk): self = .blobChunk(chunk)
        case .error(let error): self = .error(error)
        case .control(.jobSubmit), .control(.jobQuery), .control(.jobCancel), .control(.jobResultRequest),
            .control(.workerQuery), .control(.blobOffer), .control(.blobUpload), .hello, .welcome, .ready, .heartbeat,
            .goodbye, .shardTask, .shardResult, .shardResultPart, .shardTaskWeights, .blobRequest, .round:
            return nil
        }
    }
}
