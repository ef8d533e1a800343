#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Whole-file reads into a byte array, gunzipping transparently when the file starts with the gzip magic.
public enum ByteFile {
    /// The file's contents, decompressed when it is gzip (1f 8b) and returned raw otherwise. A regular file is
    /// mapped rather than read, so that gzip is decompressed straight from the page cache instead of from a copy
    /// in fresh memory (26 MB of FashionMNIST's training images: about 40 ms, mostly page faults).
    public static func read(_ path: String) throws(DatasetError) -> [UInt8] {
        let mapped = MappedFile(path)
        let bytes = mapped == nil ? try readRaw(path) : []
        do {
            if let mapped { return try mapped.withBytes(decoded) }
            return try bytes.withUnsafeBufferPointer { bytes throws(GzipError) in try decoded(bytes) }
        } catch {
            throw .decompression(path: path, error)
        }
    }

    private static func decoded(_ bytes: UnsafeBufferPointer<UInt8>) throws(GzipError) -> [UInt8] {
        Gzip.hasGzipMagic(bytes) ? try Gzip.decompress(bytes) : Array(bytes)
    }

    /// The file's bytes exactly as stored.
    public static func readRaw(_ path: String) throws(DatasetError) -> [UInt8] {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else {
            let code = errno
            throw code == ENOENT ? .fileNotFound(path: path) : .unreadable(path: path, reason: reason(code))
        }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw .unreadable(path: path, reason: reason(errno)) }
        guard (info.st_mode & S_IFMT) != S_IFDIR else { throw .unreadable(path: path, reason: "is a directory") }

        // Room past the file's size for the read that finds its end (or that it grew), so that finding the end
        // neither moves nor doubles the array.
        var bytes: [UInt8] = []
        let size = max(Int(info.st_size), 0)
        bytes.reserveCapacity(size + (1 << 16))
        bytes.append(contentsOf: repeatElement(0, count: size))
        var filled = 0
        while true {
            if filled == bytes.count {
                bytes.append(contentsOf: repeatElement(0, count: max(bytes.count - size, 1 << 16)))
            }
            let count = bytes.withUnsafeMutableBytes { buffer in
                systemRead(descriptor, buffer.baseAddress! + filled, buffer.count - filled)
            }
            if count < 0 {
                if errno == EINTR { continue }
                throw .unreadable(path: path, reason: reason(errno))
            }
            if count == 0 { break }
            filled += count
        }
        bytes.removeSubrange(filled...)
        return bytes
    }

    private static func reason(_ code: Int32) -> String {
        String(cString: strerror(code))
    }
}

/// POSIX read(2), out of reach of `ByteFile.read`'s name.
private func systemRead(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    read(descriptor, buffer, count)
}

/// A regular, non-empty file mapped read-only for one pass over its bytes; nil for anything else (which
/// `ByteFile.readRaw` reads instead, or refuses with the reason). Like any mapping, it assumes that nobody
/// truncates the file during that pass.
struct MappedFile {
    private let base: UnsafeRawPointer
    private let size: Int

    init?(_ path: String) {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, info.st_size > 0,
            let mapping = mmap(nil, Int(info.st_size), PROT_READ, MAP_PRIVATE, descriptor, 0), mapping != MAP_FAILED
        else { return nil }
        madvise(mapping, Int(info.st_size), MADV_SEQUENTIAL)
        (base, size) = (UnsafeRawPointer(mapping), Int(info.st_size))
    }

    /// `body` over the file's bytes; the mapping ends with it.
    func withBytes<Result, Failure: Error>(
        _ body: (UnsafeBufferPointer<UInt8>) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        defer { munmap(UnsafeMutableRawPointer(mutating: base), size) }
        return try body(UnsafeBufferPointer(start: base.assumingMemoryBound(to: UInt8.self), count: size))
    }
}
