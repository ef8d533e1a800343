import Crypto
import Foundation

/// The hex SHA-256 of a file's bytes: how reports name inputs and outputs.
public func sha256Hex(contentsOf url: URL) throws -> String {
    sha256Hex(try Data(contentsOf: url, options: .mappedIfSafe))
}

/// The hex SHA-256 of some bytes.
public func sha256Hex(_ data: Data) -> String {
    hex(SHA256.hash(data: data))
}

/// The hex SHA-256 of bytes that `produce` hands, a piece at a time, to the closure it is given.
public func sha256Hex(streaming produce: ((UnsafeRawBufferPointer) -> Void) throws -> Void) rethrows -> String {
    var hasher = SHA256()
    try produce { hasher.update(bufferPointer: $0) }
    return hex(hasher.finalize())
}

private func hex(_ digest: SHA256.Digest) -> String { digest.map { String(format: "%02x", $0) }.joined() }
