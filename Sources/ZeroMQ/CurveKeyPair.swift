/// Why a string is not a CURVE key.
public enum CurveKeyError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A Z85 key is exactly 40 characters.
    case wrongLength(Int)
    /// The string contains characters outside the Z85 alphabet.
    case notZ85

    public var description: String {
        switch self {
        case .wrongLength(let length): "a CURVE key is 40 Z85 characters, not \(length)"
        case .notZ85: "a CURVE key must use only Z85 characters (0-9 a-z A-Z .-:+=^!/*?&<>()[]{}@%$#)"
        }
    }
}

/// A CURVE key pair as 40-character Z85 strings. Its `description` shows only the public key.
public struct CurveKeyPair: Sendable, Equatable, CustomStringConvertible {
    /// The Z85 public key, shared with peers (and put on a server's allowlist).
    public let publicKey: String
    /// The Z85 secret key; never leaves its owner.
    public let secretKey: String

    /// A fresh random key pair. Throws when libzmq was built without CURVE (`ENOTSUP`).
    public static func generate() throws(ZeroMQError) -> CurveKeyPair {
        let (publicKey, secretKey) = try Calls.zmq_curve_keypair()
        return CurveKeyPair(publicKey: publicKey, secretKey: secretKey)
    }

    /// The key pair of `secretKey`: validates it and derives the public key.
    public init(secretKey: String) throws {
        try Self.validate(secretKey)
        self.init(publicKey: try Calls.zmq_curve_public(secretKey), secretKey: secretKey)
    }

    private init(publicKey: String, secretKey: String) {
        self.publicKey = publicKey
        self.secretKey = secretKey
    }

    /// Throws unless `key` is 40 Z85 characters (i.e. encodes 32 bytes).
    public static func validate(_ key: String) throws(CurveKeyError) {
        _ = try decode(key)
    }

    /// The 32 bytes of a Z85 key.
    static func decode(_ key: String) throws(CurveKeyError) -> [UInt8] {
        let length = key.utf8.count
        guard length == 40 else { throw .wrongLength(length) }
        // Re-encoding catches what zmq_z85_decode cannot see, such as an embedded NUL.
        guard let bytes = Calls.zmq_z85_decode(key), Calls.zmq_z85_encode(bytes) == key else { throw .notZ85 }
        return bytes
    }

    /// The Z85 key of 32 raw key bytes.
    static func encode(_ bytes: [UInt8]) -> String? {
        bytes.count == 32 ? Calls.zmq_z85_encode(bytes) : nil
    }

    public var description: String { "CurveKeyPair(publicKey: \(publicKey))" }
}
