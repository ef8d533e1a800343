import Tensor
import Unlearning

/// A worker's or a federated client's introduction.
public struct Hello: Sendable, Equatable {
    public enum Role: Int, Sendable {
        case worker = 0
        case client = 1
    }

    public var name: String
    /// The BLAS kernel identity: a job only runs on workers whose identity matches the coordinator's.
    public var kernelIdentity: String
    public var threads: Int
    public var softwareVersion: String
    public var role: Role
    /// A client's local training samples per class (the data itself never leaves the client).
    public var classCounts: [Int]
    /// How a client's partition was drawn, e.g. "3/10 dirichlet:0.5 seed 1".
    public var partition: String
    /// A worker that starts computing before the rest of a task's weights arrive (`shardTaskWeights`).
    public var takesWeightParts: Bool

    public init(
        name: String, kernelIdentity: String, threads: Int, softwareVersion: String, role: Role = .worker,
        classCounts: [Int] = [], partition: String = "", takesWeightParts: Bool = false
    ) {
        self.name = name
        self.kernelIdentity = kernelIdentity
        self.threads = threads
        self.softwareVersion = softwareVersion
        self.role = role
        self.classCounts = classCounts
        self.partition = partition
        self.takesWeightParts = takesWeightParts
    }
}

public struct Welcome: Sendable, Equatable {
    public var coordinatorKernelIdentity: String
    public var heartbeatIntervalMilliseconds: Int
    /// Heartbeats a peer may miss before it counts as gone.
    public var liveness: Int

    public init(coordinatorKernelIdentity: String, heartbeatIntervalMilliseconds: Int, liveness: Int) {
        self.coordinatorKernelIdentity = coordinatorKernelIdentity
        self.heartbeatIntervalMilliseconds = heartbeatIntervalMilliseconds
        self.liveness = liveness
    }
}

/// One attempt at one logical shard of one step of one job.
public struct TaskID: Sendable, Hashable, CustomStringConvertible {
    public var job: String
    public var phase: Int
    public var step: Int
    public var shard: Int
    public var attempt: Int

    public init(job: String, phase: Int, step: Int, shard: Int, attempt: Int) {
        self.job = job
        self.phase = phase
        self.step = step
        self.shard = shard
        self.attempt = attempt
    }

    public var description: String { "\(job)/\(phase).\(step)#\(shard)@\(attempt)" }
}

/// What a job's tasks read besides the step: data and models by content hash.
public struct JobContext: Sendable, Equatable {
    public var datasetSHA256: String
    public var originalSHA256: String
    public var architecture: String
    /// The version of the student weights the task is computed on (16 hex digits, `WeightsVersion`).
    public var weightsVersion: String
    /// Whether the weights ride along as tensor frames (named by parameter) because the worker's replica is stale.
    public var weightsIncluded: Bool

    public init(
        datasetSHA256: String, originalSHA256: String, architecture: String, weightsVersion: String,
        weightsIncluded: Bool
    ) {
        self.datasetSHA256 = datasetSHA256
        self.originalSHA256 = originalSHA256
        self.architecture = architecture
        self.weightsVersion = weightsVersion
        self.weightsIncluded = weightsIncluded
    }
}

/// The work of one shard task.
public enum ShardWork: Sendable, Equatable {
    /// One logical shard of a gradient step, cut to the shard's rows; `.tensorRows` parts name tensor frames
    /// of the message and read all their rows.
    case gradient(GradientStep)
    /// Forward passes on training samples.
    case prediction(PredictionRequest)
}

public struct ShardTask: Sendable, Equatable {
    public var id: TaskID
    public var context: JobContext
    public var work: ShardWork
    /// Gradient work: send parameter gradients in `shardResultPart`s of at least this many bytes as the backward
    /// pass finishes them (0: all of them with the result).
    public var gradientPartBytes: Int

    public init(id: TaskID, context: JobContext, work: ShardWork, gradientPartBytes: Int = 0) {
        self.id = id
        self.context = context
        self.work = work
        self.gradientPartBytes = gradientPartBytes
    }
}

/// A worker's answer to a shard task. Tensors ride as frames: parameter gradients named by parameter,
/// input gradients "input/<part>", predictions "logits" and "losses".
public struct ShardReport: Sendable, Equatable {
    public var id: TaskID
    public var weightedLoss: Double
    public var correct: [Int]
    public var predicted: [Int]
    public var seconds: Double

    public init(id: TaskID, weightedLoss: Double, correct: [Int], predicted: [Int] = [], seconds: Double) {
        self.id = id
        self.weightedLoss = weightedLoss
        self.correct = correct
        self.predicted = predicted
        self.seconds = seconds
    }
}

/// A request for bytes of a content-addressed blob, from `offset` on.
public struct BlobRequest: Sendable, Equatable {
    public var sha256: String
    public var offset: Int
    public var maximumBytes: Int

    public init(sha256: String, offset: Int, maximumBytes: Int = WireProtocol.Limits.blobChunkBytes) {
        self.sha256 = sha256
        self.offset = offset
        self.maximumBytes = maximumBytes
    }
}

/// Bytes of a blob at `offset` (downloads and uploads alike).
public struct BlobChunk: Sendable, Equatable {
    public var sha256: String
    public var offset: Int
    public var totalBytes: Int
    public var data: [UInt8]

    public init(sha256: String, offset: Int, totalBytes: Int, data: [UInt8]) {
        self.sha256 = sha256
        self.offset = offset
        self.totalBytes = totalBytes
        self.data = data
    }
}

/// An error reply: what was wrong and, in `message`, how to fix it.
public struct ProtocolError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: Int, Sendable {
        case unspecified = 0
        case badMessage, wrongVersion
        /// Kept for the wire's numbering: CURVE and ZAP refuse an unauthenticated peer before any message arrives.
        case unauthenticated
        case unknownJob, unknownTask, badShape, unknownBlob, badRequest
        /// A worker whose BLAS kernels differ from the coordinator's gets no tasks (unless mixing is allowed).
        case kernelMismatch
        case internalError
        /// The worker does not hold the weights version the task names; the coordinator re-sends it with them.
        case staleWeights
        /// The peer has not said hello (or the coordinator restarted since); it says hello again.
        case notRegistered
    }
    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}

/// A message of one protocol's direction (`WireMessage`) with its correlation id and its tensor frames.
public struct Envelope<Message: WireMessage>: Sendable, Equatable {
    /// Chosen by the sender of a request and echoed by its reply; 0 for unsolicited messages.
    public var requestID: UInt64
    public var message: Message
    public var tensors: [NamedTensor]

    public init(_ message: Message, requestID: UInt64 = 0, tensors: [NamedTensor] = []) {
        self.requestID = requestID
        self.message = message
        self.tensors = tensors
    }
}

public struct NamedTensor: Sendable, Equatable {
    public var name: String
    public var tensor: Tensor

    public init(_ name: String, _ tensor: Tensor) {
        self.name = name
        self.tensor = tensor
    }
}
