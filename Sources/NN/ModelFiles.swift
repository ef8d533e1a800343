import Foundation
import Synchronization

/// Model files named by content for jobs that run on other processes: `onnx:<sha256>` is the ONNX graph and
/// `json:<sha256>` the JSON architecture with that hash, found in the blob stores the process registered (a
/// coordinator's, a worker's), so a model file travels like a dataset or a checkpoint: uploaded once, fetched by
/// hash, cached — no path has to exist on another host.
public enum ModelFiles {
    public enum Kind: String, CaseIterable, Sendable {
        case onnx, json

        public var prefix: String { rawValue + ":" }
        /// The file name suffix of this kind on disk.
        public var fileExtension: String { "." + rawValue }
    }

    /// A function returning the bytes of a stored blob, or nil when this store lacks it.
    public typealias Source = @Sendable (_ sha256: String) -> [UInt8]?

    private static let sources = Mutex<[Source]>([])
    /// Model files this process read from disk (`ONNXModelFile`, `ModelSpec`'s JSON files), by sha256.
    private static let remembered = Mutex<[String: [UInt8]]>([:])

    /// The architecture name of the `kind` file whose sha256 is `sha256`.
    public static func architecture(_ kind: Kind, sha256: String) -> String { kind.prefix + sha256 }

    /// The kind of file `spec` names on disk (`model.onnx`, `model.json`), if it names one.
    public static func fileKind(of spec: String) -> Kind? {
        Kind.allCases.first { spec.hasSuffix($0.fileExtension) }
    }

    /// The kind and blob an architecture named by content needs, or nil for other architectures.
    public static func named(_ architecture: String) -> (kind: Kind, sha256: String)? {
        for kind in Kind.allCases where architecture.hasPrefix(kind.prefix) {
            return (kind, String(architecture.dropFirst(kind.prefix.count)))
        }
        return nil
    }

    /// The blob `architecture` needs (`onnx:<sha256>`, `json:<sha256>`), or nil for other architectures.
    public static func blob(of architecture: String) -> String? { named(architecture)?.sha256 }

    /// Keeps a model file read from disk, so `onnx:<sha256>` or `json:<sha256>` resolves to it in this process.
    static func remember(_ bytes: [UInt8], sha256: String) {
        remembered.withLock { $0[sha256] = bytes }
    }

    /// Lets architectures named by content resolve from a blob store (a process's coordinator or worker).
    public static func addSource(_ source: @escaping Source) {
        sources.withLock { $0.append(source) }
    }

    static func model(_ architecture: String, seed: UInt64) throws(ModelSpecError) -> Model {
        guard let (kind, sha256) = named(architecture), sha256.count == 64, sha256.allSatisfy(\.isHexDigit) else {
            throw .invalid("'\(architecture)' is not onnx:<sha256> or json:<sha256>")
        }
        let registered = sources.withLock { $0 }
        guard let bytes = remembered.withLock({ $0[sha256] }) ?? registered.lazy.compactMap({ $0(sha256) }).first
        else {
            throw .unknown(
                "the \(kind == .onnx ? "ONNX graph" : "JSON architecture") \(sha256) is not stored here "
                    + "(upload it with lethe submit --model FILE\(kind.fileExtension))")
        }
        switch kind {
        case .onnx: return try ONNXModelFile.model(bytes: bytes, architecture: architecture, source: architecture)
        case .json: return try SequentialSpec.build(Data(bytes), source: architecture, seed: seed)
        }
    }
}
