import Foundation
import Tensor

#if !_endian(little)
    #error("float32 tensors are written as they are held: add byte swapping for big-endian hosts")
#endif

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A safetensors file in memory: named tensors in order, each with the dtype it has (or will have) on disk, plus
/// string metadata. Interoperates with PyTorch's `safetensors.torch.save_file` / `load_file`.
///
/// Layout: an 8-byte little-endian header length N, N bytes of UTF-8 JSON describing every tensor (dtype,
/// shape, byte offsets into the data buffer) and an optional `__metadata__` object of strings, then the data
/// buffer of little-endian, C-order elements.
public struct SafetensorsFile: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public var name: String
        /// The values, converted to `Float` on reading.
        public var tensor: Tensor
        /// The element type on disk: the type it was read as, and the type it is written as.
        public var dtype: SafetensorsDType

        public init(name: String, tensor: Tensor, dtype: SafetensorsDType = .f32) {
            self.name = name
            self.tensor = tensor
            self.dtype = dtype
        }
    }

    /// The tensors in file order: as given when writing; by data offset, then name, after reading.
    public var entries: [Entry]
    public var metadata: [String: String]

    public init(entries: [Entry] = [], metadata: [String: String] = [:]) {
        self.entries = entries
        self.metadata = metadata
    }

    /// Float32 entries from name–tensor pairs, in the order given.
    public init(tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:]) {
        self.init(entries: tensors.map { Entry(name: $0.name, tensor: $0.tensor) }, metadata: metadata)
    }

    public var names: [String] { entries.map(\.name) }

    public func entry(named name: String) -> Entry? { entries.first { $0.name == name } }

    /// The tensor called `name`, or nil.
    public subscript(name: String) -> Tensor? { entry(named: name)?.tensor }

    public mutating func append(name: String, tensor: Tensor, dtype: SafetensorsDType = .f32) {
        entries.append(Entry(name: name, tensor: tensor, dtype: dtype))
    }
}

// MARK: - Reading

extension SafetensorsFile {
    /// Reads and validates the file at `url`.
    public init(contentsOf url: URL) throws(SafetensorsError) {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw .unreadable(file: url.path, reason: Self.reason(error))
        }
        try self.init(data: data, source: url.path)
    }

    /// Parses and validates a complete file image; `source` names it in errors.
    /// Bytes that do not parse but begin as a `torch.save` file does (or come from a `.pt`/`.pth` file) are named as
    /// such, with the export that fixes it.
    public init(data: Data, source: String = "<memory>") throws(SafetensorsError) {
        let parsed = data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) -> Result<Self, SafetensorsError> in
            Result { () throws(SafetensorsError) in
                do throws(SafetensorsError) {
                    return try Self.parse(bytes, file: source)
                } catch {
                    guard let format = PyTorchSignature.format(of: bytes, file: source) else { throw error }
                    throw .pytorchPickle(file: source, format: format)
                }
            }
        }
        self = try parsed.get()
    }

    private static func parse(_ bytes: UnsafeRawBufferPointer, file: String) throws(SafetensorsError) -> Self {
        guard bytes.count >= 8 else { throw .fileTooShort(file: file, byteCount: bytes.count) }
        let headerLength = UInt64(littleEndian: bytes.loadUnaligned(as: UInt64.self))
        guard headerLength <= UInt64(SafetensorsHeader.maximumLength) else {
            throw .headerTooLarge(file: file, headerLength: headerLength, limit: SafetensorsHeader.maximumLength)
        }
        let headerEnd = 8 + Int(headerLength)
        guard headerEnd <= bytes.count else {
            throw .headerBeyondEndOfFile(file: file, headerLength: headerLength, fileSize: bytes.count)
        }
        let buffer = UnsafeRawBufferPointer(rebasing: bytes[headerEnd...])
        let header = try SafetensorsHeader.parse(
            Array(bytes[8..<headerEnd]), bufferSize: buffer.count, file: file)

        let entries = header.tensors.map { info in
            let scalars = ScalarCoding.decode(
                UnsafeRawBufferPointer(rebasing: buffer[info.begin..<info.end]), dtype: info.dtype,
                count: info.shape.reduce(1, *))
            return Entry(name: info.name, tensor: Tensor(shape: info.shape, scalars: scalars), dtype: info.dtype)
        }
        return SafetensorsFile(entries: entries, metadata: header.metadata)
    }
}

// MARK: - Writing

extension SafetensorsFile {
    /// The complete file image. Equal contents always give identical bytes.
    public func serialized() throws(SafetensorsError) -> Data {
        try serialized(file: "<memory>")
    }

    /// Writes the file atomically: into a temporary file in the same directory, flushed to disk, then renamed
    /// over `url`. On failure `url` is untouched and the temporary file is removed.
    public func write(to url: URL) throws(SafetensorsError) {
        let path = url.path
        let image = try serialized(file: path)
        let directory = url.deletingLastPathComponent()
        let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        do {
            guard FileManager.default.createFile(atPath: temporary.path, contents: nil) else {
                throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: temporary.path])
            }
            let handle = try FileHandle(forWritingTo: temporary)
            defer { try? handle.close() }
            try handle.write(contentsOf: image)
            try handle.synchronize()
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw .unwritable(file: path, reason: Self.reason(error))
        }
        guard rename(temporary.path, path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw .unwritable(file: path, reason: "cannot rename the temporary file into place: \(reason)")
        }
    }

    /// The file's bytes in order — the header's length, the header, each tensor's data — handed to `consume` a
    /// piece at a time: the bytes `serialized()` returns, without building them in one buffer (for hashing large
    /// files). Float32 tensors are handed over in place.
    public func streamed(_ consume: (UnsafeRawBufferPointer) -> Void) throws(SafetensorsError) {
        let (header, tensors, _) = try layout(file: "<memory>")
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { consume($0) }
        header.withUnsafeBytes { consume($0) }
        for (entry, info) in zip(entries, tensors) {
            if entry.dtype == .f32 {
                entry.tensor.withUnsafeBufferPointer { consume(UnsafeRawBufferPointer($0)) }
                continue
            }
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: info.end - info.begin, alignment: 8)
            defer { buffer.deallocate() }
            if let failure = Self.encode(entry, into: buffer, file: "<memory>") { throw failure }
            consume(UnsafeRawBufferPointer(buffer))
        }
    }

    private func serialized(file: String) throws(SafetensorsError) -> Data {
        let (header, tensors, dataBytes) = try layout(file: file)
        var image = Data(count: 8 + header.count + dataBytes)
        let failure = image.withUnsafeMutableBytes { (bytes: UnsafeMutableRawBufferPointer) -> SafetensorsError? in
            bytes.storeBytes(of: UInt64(header.count).littleEndian, as: UInt64.self)
            UnsafeMutableRawBufferPointer(rebasing: bytes[8..<(8 + header.count)]).copyBytes(from: header)
            let buffer = UnsafeMutableRawBufferPointer(rebasing: bytes[(8 + header.count)...])
            for (entry, info) in zip(entries, tensors) {
                let slice = UnsafeMutableRawBufferPointer(rebasing: buffer[info.begin..<info.end])
                if let failure = Self.encode(entry, into: slice, file: file) { return failure }
            }
            return nil
        }
        if let failure { throw failure }
        return image
    }

    /// The encoded header and each tensor's place in the data buffer, whose size comes last.
    private func layout(file: String) throws(SafetensorsError) -> (
        header: [UInt8], tensors: [SafetensorsHeader.TensorInfo], dataBytes: Int
    ) {
        var seen = Set<String>()
        var tensors: [SafetensorsHeader.TensorInfo] = []
        var offset = 0
        for entry in entries {
            guard entry.name != SafetensorsHeader.metadataKey else {
                throw .reservedName(file: file, tensor: entry.name)
            }
            guard seen.insert(entry.name).inserted else { throw .duplicateName(file: file, tensor: entry.name) }
            let byteCount = entry.tensor.count * entry.dtype.byteCount
            tensors.append(
                .init(
                    name: entry.name, dtype: entry.dtype, shape: entry.tensor.shape, begin: offset,
                    end: offset + byteCount))
            offset += byteCount
        }
        return (SafetensorsHeader(tensors: tensors, metadata: metadata).encoded(), tensors, offset)
    }

    /// Writes `entry`'s data in its dtype into `output` (float32 as it is held, little-endian).
    private static func encode(_ entry: Entry, into output: UnsafeMutableRawBufferPointer, file: String)
        -> SafetensorsError?
    {
        if entry.dtype == .f32 {
            entry.tensor.withUnsafeBufferPointer { output.copyMemory(from: UnsafeRawBufferPointer($0)) }
            return nil
        }
        do throws(ScalarCoding.EncodingFailure) {
            try ScalarCoding.encode(entry.tensor.scalars, as: entry.dtype, into: output)
            return nil
        } catch {
            switch error {
            case .nonIntegral(let index, let value):
                return .nonIntegralValue(file: file, tensor: entry.name, dtype: entry.dtype, index: index, value: value)
            case .outOfRange(let index, let value):
                return .valueOutOfRange(file: file, tensor: entry.name, dtype: entry.dtype, index: index, value: value)
            }
        }
    }

    /// A short reason such as "no such file" or "permission denied" for a failed read or write.
    private static func reason(_ error: any Error) -> String {
        let nsError = error as NSError
        if nsError.domain == NSCocoaErrorDomain && nsError.code == NSFileReadNoSuchFileError { return "no such file" }
        if let underlying = (nsError.userInfo[NSUnderlyingErrorKey] as? any Error).map({ $0 as NSError }),
            underlying.domain == NSPOSIXErrorDomain
        {
            return String(cString: strerror(Int32(underlying.code)))
        }
        return (error as? LocalizedError)?.errorDescription ?? String(describing: error)
    }
}
