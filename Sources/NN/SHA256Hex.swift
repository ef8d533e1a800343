import Crypto
import Foundation
import Tensor

/// The hex SHA-256 of a file's bytes: how reports name inputs and outputs.
public func sha256Hex(contentsOf url: URL) throws -> String {
    sha256Hex(try Data(contentsOf: url, options: .mappedIfSafe))
}

/// The hex SHA-256 of some bytes: how blobs, model files, datasets and reports are named.
public func sha256Hex(_ bytes: some DataProtocol) -> String {
    SHA256.hash(data: bytes).hexDigits
}

/// The hex SHA-256 of bytes that `produce` hands, a piece at a time, to the closure it is given.
public func sha256Hex(streaming produce: ((UnsafeRawBufferPointer) -> Void) throws -> Void) rethrows -> String {
    var hasher = SHA256()
    try produce { hasher.update(bufferPointer: $0) }
    return hasher.finalize().hexDigits
}
