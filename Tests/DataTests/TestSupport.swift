import CZlib
import Data
import Foundation
import Testing

/// A unique directory under the system temporary directory, removed when the value goes away.
final class TempDirectory {
    let path: String

    init() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("lethe-data-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        path = url.path
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    /// Writes `bytes` to `name` (creating intermediate directories) and returns the full path.
    @discardableResult
    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let target = file(name)
        try FileManager.default.createDirectory(
            atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Foundation.Data(bytes).write(to: URL(fileURLWithPath: target))
        return target
    }
}

/// gzip (windowBits 31) or zlib (windowBits 15) compression through zlib's deflate.
func compress(_ bytes: [UInt8], windowBits: Int32 = 31) -> [UInt8] {
    var stream = z_stream()
    let status = deflateInit2_(
        &stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, windowBits, 8, Z_DEFAULT_STRATEGY, zlibVersion(),
        Int32(MemoryLayout<z_stream>.size))
    precondition(status == Z_OK, "deflateInit2 failed: \(status)")
    defer { deflateEnd(&stream) }
    var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(bytes.count))) + 64)
    var input = bytes
    input.withUnsafeMutableBufferPointer { source in
        output.withUnsafeMutableBufferPointer { destination in
            stream.next_in = source.baseAddress
            stream.avail_in = uInt(source.count)
            stream.next_out = destination.baseAddress
            stream.avail_out = uInt(destination.count)
            let result = deflate(&stream, Z_FINISH)
            precondition(result == Z_STREAM_END, "deflate did not finish: \(result)")
        }
    }
    output.removeSubrange(Int(stream.total_out)...)
    return output
}

// MARK: - File builders

func bigEndian32(_ value: Int) -> [UInt8] {
    [24, 16, 8, 0].map { UInt8((value >> $0) & 0xff) }
}

/// An IDX uint8 images file [count, height, width].
func idxImages(count: Int, height: Int, width: Int, pixels: [UInt8]) -> [UInt8] {
    [0, 0, 8, 3] + bigEndian32(count) + bigEndian32(height) + bigEndian32(width) + pixels
}

/// An IDX uint8 labels file.
func idxLabels(_ labels: [UInt8]) -> [UInt8] {
    [0, 0, 8, 1] + bigEndian32(labels.count) + labels
}

/// A deterministic pixel pattern that includes 0 and 255.
func pixelPattern(_ count: Int, salt: Int = 0) -> [UInt8] {
    (0..<count).map { i in i == 0 ? 0 : i == 1 ? 255 : UInt8((i * 37 + salt * 11) % 256) }
}

// MARK: - Error checks

/// The case of a `DatasetError`, without its payload, so tests can say which error they expect.
enum ErrorKind: Equatable {
    case fileNotFound, unreadable, decompression, badMagic, truncated, sizeMismatch, labelOutOfRange, countMismatch
    case invalidHeader, unsupportedDtype, fortranOrder, empty, normalizationMismatch, notInstalled, unknownDataset
    case unrecognizedDirectory, missingFile, invalidNormalization, nonFiniteTarget
}

extension DatasetError {
    var kind: ErrorKind {
        switch self {
        case .fileNotFound: .fileNotFound
        case .unreadable: .unreadable
        case .decompression: .decompression
        case .badMagic: .badMagic
        case .truncated: .truncated
        case .sizeMismatch: .sizeMismatch
        case .labelOutOfRange: .labelOutOfRange
        case .nonFiniteTarget: .nonFiniteTarget
        case .countMismatch: .countMismatch
        case .invalidHeader: .invalidHeader
        case .unsupportedDtype: .unsupportedDtype
        case .fortranOrder: .fortranOrder
        case .empty: .empty
        case .normalizationMismatch: .normalizationMismatch
        case .invalidNormalization: .invalidNormalization
        case .notInstalled: .notInstalled
        case .unknownDataset: .unknownDataset
        case .unrecognizedDirectory: .unrecognizedDirectory
        case .missingFile: .missingFile
        }
    }
}

/// Expects `body` to throw a `DatasetError` of `kind` whose message contains every string in `mentioning`.
@discardableResult
func expectError<T>(
    _ kind: ErrorKind, mentioning fragments: [String] = [], sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws -> T
) -> DatasetError? {
    let error = #expect(throws: DatasetError.self, sourceLocation: sourceLocation) { _ = try body() }
    guard let error else { return nil }
    #expect(error.kind == kind, "expected \(kind), got: \(error)", sourceLocation: sourceLocation)
    for fragment in fragments {
        #expect(
            error.description.contains(fragment), "'\(fragment)' missing from: \(error)", sourceLocation: sourceLocation
        )
    }
    return error
}
