/// Why a received message was refused. Every decoder treats its input as hostile (DESIGN §5): a bad message
/// becomes one of these, never a crash.
public enum WireError: Error, Equatable, CustomStringConvertible {
    /// No frames, or fewer than the version frame and the envelope.
    case missingFrames(count: Int)
    /// The first frame is not "lethe/<version>" for the version this build speaks.
    case wrongVersion(received: String)
    /// The envelope is not valid protobuf for the schema (or is larger than `Limits.envelopeBytes`).
    case malformedEnvelope(String)
    /// The envelope announces tensors that do not match the frames that follow it.
    case badTensor(String)
    /// A field holds a value the message cannot have (negative count, label without input, …).
    case invalidField(String)
    /// A well-formed message that the receiver's peer does not send (another protocol's, or the other direction's):
    /// its kind, the request it would answer and how the receiver refuses it (`WireMessage.refusal(of:)`).
    case unexpected(kind: String, requestID: UInt64, refusal: ProtocolError)

    public var description: String {
        switch self {
        case .missingFrames(let count):
            "a message needs a version frame and an envelope; got \(count) frame(s)"
        case .wrongVersion(let received):
            "peer speaks protocol '\(received)', this build speaks '\(WireProtocol.versionTag)'; upgrade the older side"
        case .malformedEnvelope(let detail): "malformed envelope: \(detail)"
        case .badTensor(let detail): "bad tensor frame: \(detail)"
        case .invalidField(let detail): "invalid field: \(detail)"
        case .unexpected(_, _, let refusal): refusal.message
        }
    }
}

/// The protocol's version and the bounds every decoder enforces.
public enum WireProtocol {
    public static let version = 1
    /// Frame 0 of every message.
    public static let versionTag = "lethe/\(version)"
    public static var versionFrame: [UInt8] { Array(versionTag.utf8) }

    public enum Limits {
        /// Largest protobuf envelope accepted (tensors travel in their own frames).
        public static let envelopeBytes = 16 << 20
        /// Most tensor frames one message may carry.
        public static let tensors = 4096
        /// Most elements of one tensor (1 GiB of float32).
        public static let tensorElements = 1 << 28
        /// Most dimensions of one tensor.
        public static let rank = 8
        /// Most classes a per-class count may cover.
        public static let classes = 1 << 16
        /// Size of the chunks blobs travel in.
        public static let blobChunkBytes = 1 << 20
    }
}
