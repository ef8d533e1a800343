import Crypto
import Foundation
import NN
import Synchronization
import Tensor
import Wire

/// A content-addressed store of immutable blobs (datasets, checkpoints, reports) in a directory: each blob is
/// the file `<dir>/<first two hex digits>/<sha256>`, written atomically. Downloads in progress live next to it
/// as `<sha256>.partial-<pid>-<store>` and resume from their length: each store writes its own, so processes
/// sharing a directory (two workers with the default cache) never interleave chunks, and a store adopts what a
/// dead process left half done (or deletes it, once another process has finished that blob).
public final class BlobStore: Sendable {
    public let directory: URL
    /// Whether a blob is flushed to disk before it is placed (not for a store that dies with its process).
    private let durable: Bool
    /// Held while a partial file is measured or appended to.
    private let partialFiles = Mutex(())
    private let partialSuffix = "partial-\(getpid())-\(UUID().uuidString.prefix(8))"

    /// `durable` false skips flushing each blob to disk: for a temporary store deleted with the process that
    /// uses it (an embedded cluster's), where a crash loses the store anyway.
    public init(directory: URL, durable: Bool = true) throws {
        self.directory = directory
        self.durable = durable
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        removeFinishedOrphans()
    }

    /// The hex SHA-256 that addresses `data`.
    public static func sha256(_ data: some DataProtocol) -> String { sha256Hex(data) }

    /// The hex SHA-256 of a file's bytes.
    public static func sha256(contentsOf url: URL) throws -> String {
        sha256(try Data(contentsOf: url, options: .mappedIfSafe))
    }

    public func url(of sha256: String) -> URL {
        directory.appendingPathComponent(String(sha256.prefix(2))).appendingPathComponent(sha256)
    }

    public func contains(_ sha256: String) -> Bool { FileManager.default.fileExists(atPath: url(of: sha256).path) }

    /// Stores `data` and returns its address (storing the same bytes twice is a no-op).
    @discardableResult
    public func put(_ data: Data) throws -> String {
        let sha256 = Self.sha256(data)
        guard !contains(sha256) else { return sha256 }
        let file = try IncomingFile(in: directory)
        data.withUnsafeBytes(file.write)
        try place(file, as: sha256)
        return sha256
    }

    /// Stores the bytes `produce` hands over, a piece at a time, hashed as they are written (a large blob, such as a
    /// dataset, is never whole in memory), and returns their address.
    @discardableResult
    public func put(streaming produce: ((UnsafeRawBufferPointer) -> Void) throws -> Void) throws -> String {
        let file = try IncomingFile(in: directory)
        var hasher = SHA256()
        try produce { piece in
            hasher.update(bufferPointer: piece)
            file.write(piece)
        }
        let sha256 = hasher.finalize().hexDigits
        if !contains(sha256) { try place(file, as: sha256) }
        return sha256
    }

    /// Moves a written file into place as blob `sha256`, once durable (rename(2) replaces atomically: whoever
    /// finished the same blob first wrote the same bytes).
    private func place(_ file: IncomingFile, as sha256: String) throws {
        try file.finish(flushing: durable)
        let target = url(of: sha256)
        try FileManager.default.createDirectory(
            at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        guard rename(file.url.path, target.path) == 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
    }

    /// Stores the file at `source` (copied) and returns its address.
    @discardableResult
    public func put(contentsOf source: URL) throws -> String {
        try put(Data(contentsOf: source, options: .mappedIfSafe))
    }

    public func remove(_ sha256: String) { try? FileManager.default.removeItem(at: url(of: sha256)) }

    public func data(_ sha256: String) throws -> Data {
        guard contains(sha256) else { throw BlobError.unknown(sha256) }
        return try Data(contentsOf: url(of: sha256), options: .mappedIfSafe)
    }

    public func size(of sha256: String) throws -> Int {
        guard contains(sha256) else { throw BlobError.unknown(sha256) }
        return (try FileManager.default.attributesOfItem(atPath: url(of: sha256).path)[.size] as? Int) ?? 0
    }

    /// Up to `count` bytes of a stored blob from `offset`.
    public func read(_ sha256: String, offset: Int, count: Int) throws -> [UInt8] {
        let handle = try FileHandle(forReadingFrom: url(of: sha256))
        defer { try? handle.close() }
        try handle.seek(toOffset: UInt64(offset))
        return [UInt8](try handle.read(upToCount: count) ?? Data())
    }

    /// The chunk of a stored blob that `request` asks for (at most one protocol chunk).
    public func chunk(for request: BlobRequest) throws -> BlobChunk {
        let total = try size(of: request.sha256)
        let data = try read(
            request.sha256, offset: min(request.offset, total),
            count: min(max(request.maximumBytes, 1), WireProtocol.Limits.blobChunkBytes))
        return BlobChunk(sha256: request.sha256, offset: request.offset, totalBytes: total, data: data)
    }

    /// How many bytes of an interrupted download of `sha256` are already here.
    public func partialLength(_ sha256: String) -> Int {
        partialFiles.withLock { _ in ownPartialLength(sha256) }
    }

    private func ownPartialLength(_ sha256: String) -> Int {
        if !FileManager.default.fileExists(atPath: partialURL(sha256).path) { adoptOrphanedPartial(sha256) }
        let attributes = try? FileManager.default.attributesOfItem(atPath: partialURL(sha256).path)
        return (attributes?[.size] as? Int) ?? 0
    }

    /// Appends a chunk at `offset` (which must be the partial length); once `total` bytes are in, checks the hash
    /// and moves the blob into place. Returns whether the blob is complete.
    public func append(_ sha256: String, offset: Int, total: Int, bytes: [UInt8]) throws -> Bool {
        try partialFiles.withLock { _ in try appendHoldingTheLock(sha256, offset: offset, total: total, bytes: bytes) }
    }

    private func appendHoldingTheLock(_ sha256: String, offset: Int, total: Int, bytes: [UInt8]) throws -> Bool {
        let partial = partialURL(sha256)
        if contains(sha256) {
            try? FileManager.default.removeItem(at: partial)
            return true
        }
        try FileManager.default.createDirectory(
            at: partial.deletingLastPathComponent(), withIntermediateDirectories: true)
        let have = ownPartialLength(sha256)
        guard offset == have, offset + bytes.count <= total else {
            throw BlobError.outOfOrder(sha256, expected: have, received: offset)
        }
        if !FileManager.default.fileExists(atPath: partial.path) {
            _ = FileManager.default.createFile(atPath: partial.path, contents: nil)
        }
        let handle = try FileHandle(forWritingTo: partial)
        try handle.seekToEnd()
        try handle.write(contentsOf: bytes)
        try handle.close()
        guard offset + bytes.count == total else { return false }
        let actual = Self.sha256(try Data(contentsOf: partial, options: .mappedIfSafe))
        guard actual == sha256 else {
            try? FileManager.default.removeItem(at: partial)
            throw BlobError.corrupt(sha256, actual: actual)
        }
        // rename(2) replaces atomically: another process that finished the same blob first wrote the same bytes.
        guard rename(partial.path, url(of: sha256).path) == 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        return true
    }

    private func partialURL(_ sha256: String) -> URL { url(of: sha256).appendingPathExtension(partialSuffix) }

    /// Takes over (by an atomic rename, so only one store wins) a partial download of `sha256` whose process has
    /// died, so a restarted worker or coordinator resumes instead of starting over.
    private func adoptOrphanedPartial(_ sha256: String) {
        let folder = url(of: sha256).deletingLastPathComponent()
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        for name in names where Self.orphan(name)?.sha256 == sha256 {
            if rename(folder.appendingPathComponent(name).path, partialURL(sha256).path) == 0 { return }
        }
    }

    /// Deletes the partial downloads of dead processes whose blob another process has since finished, and the
    /// files dead processes were storing (`IncomingFile`).
    private func removeFinishedOrphans() {
        let folders = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        for name in folders where name.hasPrefix(".incoming-") {
            guard let pid = Int32(name.dropFirst(".incoming-".count).prefix { $0 != "-" }), pid != getpid(),
                kill(pid, 0) != 0, errno == ESRCH
            else { continue }
            try? FileManager.default.removeItem(at: directory.appendingPathComponent(name))
        }
        for folder in folders.map(directory.appendingPathComponent) {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [] {
                guard let orphan = Self.orphan(name), contains(orphan.sha256) else { continue }
                try? FileManager.default.removeItem(at: folder.appendingPathComponent(name))
            }
        }
    }

    /// The blob a file named `<sha256>.partial-<pid>-<store>` was downloading, if its process has died.
    private static func orphan(_ name: String) -> (sha256: String, pid: Int32)? {
        let parts = name.split(separator: ".", maxSplits: 1)
        guard parts.count == 2, parts[1].hasPrefix("partial-"),
            let pid = Int32(parts[1].dropFirst("partial-".count).prefix { $0 != "-" }), pid != getpid(),
            kill(pid, 0) != 0, errno == ESRCH
        else { return nil }
        return (String(parts[0]), pid)
    }
}

public enum BlobError: Error, CustomStringConvertible, Equatable {
    case unknown(String)
    case outOfOrder(String, expected: Int, received: Int)
    case corrupt(String, actual: String)

    public var description: String {
        switch self {
        case .unknown(let sha256): "no blob \(sha256) in the store"
        case .outOfOrder(let sha256, let expected, let received):
            "blob \(sha256): chunk at offset \(received), expected \(expected)"
        case .corrupt(let sha256, let actual): "blob \(sha256) arrived with hash \(actual); discarded"
        }
    }
}

/// A file being stored into a `BlobStore`'s directory (`.incoming-<pid>-<uuid>`, removed unless it was placed),
/// written in slices of at most 4 MB: one write(2) of a whole 188 MB dataset took 0.3–0.7 s here, 1 MB slices 0.06 s.
private final class IncomingFile {
    let url: URL
    private var descriptor: Int32
    /// The first write's errno, if one failed (the rest are skipped).
    private var failure: Int32 = 0

    init(in directory: URL) throws {
        url = directory.appendingPathComponent(".incoming-\(getpid())-\(UUID().uuidString)")
        descriptor = open(url.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
    }

    func write(_ piece: UnsafeRawBufferPointer) {
        var offset = 0
        while failure == 0, offset < piece.count {
            let written = Glibc.write(descriptor, piece.baseAddress! + offset, min(piece.count - offset, 1 << 22))
            if written >= 0 { offset += written } else if errno != EINTR { failure = errno }
        }
    }

    /// Closes the file, made durable first when `flushing`, or throws why it could not be written.
    func finish(flushing: Bool) throws {
        if failure == 0, flushing, fsync(descriptor) != 0 { failure = errno }
        close(descriptor)
        descriptor = -1
        guard failure == 0 else { throw POSIXError(.init(rawValue: failure) ?? .EIO) }
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
        unlink(url.path)  // a placed file has been renamed away: nothing to remove
    }
}
