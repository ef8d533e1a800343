/// The messages one side of one protocol sends (DESIGN §5): worker ⇄ coordinator (`WorkerToCoordinator`,
/// `CoordinatorToWorker`), federated client ⇄ coordinator (`ClientToCoordinator`, `CoordinatorToClient`) and
/// CLI ⇄ coordinator (`ControlRequest`, `ControlReply`). A receiver decodes the type its peer sends
/// (`WireCodec.decode(_:as:)`), so its switch covers exactly what may arrive; any other message is refused by the
/// decoder with `WireError.unexpected`.
public protocol WireMessage: Sendable, Equatable {
    /// How a receiver of these messages refuses a message of another kind.
    static func refusal(of kind: String) -> ProtocolError
    /// The message as the envelope carries it.
    var body: WireBody { get }
    /// The message in `body`, or nil when this side does not send it.
    init?(_ body: WireBody)
}

extension WireMessage {
    /// The message's kind, for logs and errors (the same words whichever protocol carries it).
    public var kind: String { body.value.kind }

    /// The error the message reports, if it is an error.
    public var protocolError: ProtocolError? {
        if case .error(let error) = body.value { error } else { nil }
    }
}

/// One envelope body, whatever its protocol: what every protocol's messages convert to and from (opaque outside
/// Wire).
public struct WireBody: Sendable, Equatable {
    let value: Body

    init(_ value: Body) { self.value = value }
}

/// The envelope's `oneof body` (proto/lethe.proto): every message of every protocol.
enum Body: Sendable, Equatable {
    case hello(Hello)
    case welcome(Welcome)
    case ready(credit: Int)
    case heartbeat
    case goodbye(reason: String)
    case shardTask(ShardTask)
    case shardResult(ShardReport)
    case shardResultPart(TaskID)
    case shardTaskWeights(TaskID)
    case blobRequest(BlobRequest)
    case blobChunk(BlobChunk)
    case error(ProtocolError)
    case round(RoundBody)
    case control(ControlBody)

    var kind: String {
        switch self {
        case .hello: "hello"
        case .welcome: "welcome"
        case .ready: "ready"
        case .heartbeat: "heartbeat"
        case .goodbye: "goodbye"
        case .shardTask: "shard task"
        case .shardResult: "shard result"
        case .shardResultPart: "shard result part"
        case .shardTaskWeights: "shard task weights"
        case .blobRequest: "blob request"
        case .blobChunk: "blob chunk"
        case .error: "error"
        case .round(.task): "round task"
        case .round(.update): "round update"
        case .control(let body): body.kind
        }
    }
}

/// The federated round bodies (encoded by `RoundCoding`).
enum RoundBody: Sendable, Equatable {
    case task(RoundTask)
    case update(RoundUpdate)
}

/// The CLI ⇄ coordinator bodies of their own (encoded by `ControlCoding`).
enum ControlBody: Sendable, Equatable {
    case jobSubmit(JobSpec)
    case jobAccepted(id: String)
    case jobQuery(id: String)
    case jobStatus(JobStatus)
    case jobList([JobStatus])
    case jobCancel(id: String)
    case jobResultRequest(id: String)
    case jobResult(JobOutputs)
    case workerQuery
    case workerList([WorkerSummary])
    case blobOffer(BlobOffer)
    case blobUpload(BlobChunk)
    case blobStored(BlobStored)

    var kind: String {
        switch self {
        case .jobSubmit: "job submit"
        case .jobAccepted: "job accepted"
        case .jobQuery: "job query"
        case .jobStatus: "job status"
        case .jobList: "job list"
        case .jobCancel: "job cancel"
        case .jobResultRequest: "job result request"
        case .jobResult: "job result"
        case .workerQuery: "worker query"
        case .workerList: "worker list"
        case .blobOffer: "blob offer"
        case .blobUpload: "blob upload"
        case .blobStored: "blob stored"
        }
    }
}

/// What workers and federated clients alike send the coordinator to keep in touch (the same bytes on the wire).
public protocol PeerToCoordinator: WireMessage {
    static func hello(_ hello: Hello) -> Self
    static var heartbeat: Self { get }
    static func goodbye(reason: String) -> Self
}

/// The messages that keep a worker or a client in touch with the coordinator.
public enum PeerContact: Sendable, Equatable {
    case hello(Hello)
    case heartbeat
    case goodbye(reason: String)
}

extension PeerToCoordinator {
    /// The message as the coordinator's peer registry reads it; nil for the protocol's own messages.
    public var contact: PeerContact? {
        switch body.value {
        case .hello(let hello): .hello(hello)
        case .heartbeat: .heartbeat
        case .goodbye(let reason): .goodbye(reason: reason)
        default: nil
        }
    }
}

extension WorkerToCoordinator: PeerToCoordinator {}
extension ClientToCoordinator: PeerToCoordinator {}

/// What the coordinator sends workers and federated clients alike to keep in touch and to refuse.
public protocol CoordinatorToPeer: WireMessage {
    static func welcome(_ welcome: Welcome) -> Self
    static var heartbeat: Self { get }
    static func error(_ error: ProtocolError) -> Self
}

extension CoordinatorToPeer {
    /// The welcome, if the message is one (its heartbeat settings apply to workers and clients alike).
    public var welcome: Welcome? {
        if case .welcome(let welcome) = body.value { welcome } else { nil }
    }
}

extension CoordinatorToWorker: CoordinatorToPeer {}
extension CoordinatorToClient: CoordinatorToPeer {}
