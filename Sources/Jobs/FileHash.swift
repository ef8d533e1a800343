import Crypto
import Foundation

/// The hex SHA-256 of a file's bytes: how reports name inputs and outputs.
public func sha256Hex(contentsOf url: URL) throws -> String {
    SHA256.hash(data: try Data(contentsOf: url, options: .mappedIfSafe)).map { String(format: "%02x", $0) }.joined()
}
