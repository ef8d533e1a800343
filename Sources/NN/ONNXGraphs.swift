import Synchronization

/// ONNX graphs named by content for jobs that run on other processes: `onnx:<sha256>` is the graph file with that
/// hash, found in the blob stores the process registered (a coordinator's, a worker's), so a graph travels like a
/// dataset or a checkpoint: uploaded once, fetched by hash, cached.
public enum ONNXGraphs {
    public static let prefix = "onnx:"

    /// A function returning the bytes of a stored blob, or nil when this store lacks it.
    public typealias Source = @Sendable (_ sha256: String) -> [UInt8]?

    private static let sources = Mutex<[Source]>([])
    /// Graph files this process read from disk (`ONNXModelFile`), by sha256.
    private static let remembered = Mutex<[String: [UInt8]]>([:])

    /// The architecture name of the graph file whose sha256 is `sha256`.
    public static func architecture(sha256: String) -> String { prefix + sha256 }

    /// The blob `architecture` needs (`onnx:<sha256>`), or nil for other architectures.
    public static func blob(of architecture: String) -> String? {
        guard architecture.hasPrefix(prefix) else { return nil }
        return String(architecture.dropFirst(prefix.count))
    }

    /// Keeps a graph file read from disk, so `onnx:<sha256>` resolves to it in this process.
    static func remember(_ bytes: [UInt8], sha256: String) {
        remembered.withLock { $0[sha256] = bytes }
    }

    /// Lets `onnx:<sha256>` architectures resolve from a blob store (a process's coordinator or worker).
    public static func addSource(_ source: @escaping Source) {
        sources.withLock { $0.append(source) }
    }

    static func model(_ architecture: String) throws(ModelSpecError) -> Model {
        guard let sha256 = blob(of: architecture), sha256.count == 64, sha256.allSatisfy(\.isHexDigit) else {
            throw .invalid("'\(architecture)' is not onnx:<sha256>")
        }
        let registered = sources.withLock { $0 }
        guard let bytes = remembered.withLock({ $0[sha256] }) ?? registered.lazy.compactMap({ $0(sha256) }).first
        else {
            throw .unknown(
                "the ONNX graph \(sha256) is not stored here (upload it with lethe submit --model FILE.onnx)")
        }
        return try ONNXModelFile.model(bytes: bytes, architecture: architecture, source: architecture)
    }
}
