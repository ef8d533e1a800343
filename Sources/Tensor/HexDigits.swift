import Foundation

extension Sequence where Element == UInt8 {
    /// The bytes as lowercase hex, two digits each (how digests are written everywhere).
    public var hexDigits: String { map { String(format: "%02x", $0) }.joined() }
}
