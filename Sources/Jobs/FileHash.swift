import Crypto
import Foundation

/// The hex SHA-256 of a file's bytes: how reports name inputs and outputs.
public func sha256Hex(contentsOf url: URL) throws -> String {
    sha256Hex(try Data(contentsOf: url, options: .mappedIfSafe))
}

/// The hex SHA-256 of some bytes.
public func sha256Hex(_ data: Data) -> String {
    SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
}
