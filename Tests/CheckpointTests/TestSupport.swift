import Checkpoint
import Foundation
import Testing

/// A fresh, uniquely named directory under the system temporary directory.
func makeTemporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("lethe-checkpoint-tests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// `/work/shared/fixtures/torch-parity`, found relative to this source file: package root, then `../shared`.
let torchParityFixtures: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent()  // CheckpointTests
    .deletingLastPathComponent()  // Tests
    .deletingLastPathComponent()  // package root
    .appendingPathComponent("../shared/fixtures/torch-parity", isDirectory: true)
    .standardizedFileURL

/// A file image with the given header text and data buffer; `headerLength` overrides the stored length.
func rawFile(header: String, buffer: [UInt8] = [], headerLength: UInt64? = nil) -> Data {
    let headerBytes = Array(header.utf8)
    var data = Data()
    withUnsafeBytes(of: (headerLength ?? UInt64(headerBytes.count)).littleEndian) { data.append(contentsOf: $0) }
    data.append(contentsOf: headerBytes)
    data.append(contentsOf: buffer)
    return data
}

/// The little-endian bytes of each value.
func littleEndianBytes<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
    values.flatMap { value in withUnsafeBytes(of: value.littleEndian) { Array($0) } }
}

let badFileName = "bad.safetensors"

/// The error reading `data` throws, or nil when it reads fine.
func readError(_ data: Data) -> SafetensorsError? {
    do {
        _ = try SafetensorsFile(data: data, source: badFileName)
        return nil
    } catch {
        return error
    }
}

/// The error writing `file` throws, or nil when it serializes fine.
func writeError(_ file: SafetensorsFile) -> SafetensorsError? {
    do {
        _ = try file.serialized()
        return nil
    } catch {
        return error
    }
}

extension SafetensorsError {
    /// The enum case's name, e.g. "duplicateName".
    var caseName: String { Mirror(reflecting: self).children.first?.label ?? "\(self)" }
}
