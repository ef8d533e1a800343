import Crypto
import Foundation

/// The Ed25519 key pair that signs unlearning certificates: `signing.key` (the private key, base64 of its 32 raw
/// bytes, mode 0600) and `signing.pub` (the public key, which verifiers are given), made by `lethe keys init`.
public enum SigningKey {
    public static let privateFile = "signing.key"
    public static let publicFile = "signing.pub"

    /// Writes a new pair into `directory` (refusing to replace one).
    static func create(in directory: URL) throws {
        let privatePath = directory.appendingPathComponent(privateFile).path
        guard !FileManager.default.fileExists(atPath: privatePath) else {
            throw KeyError("\(privatePath) exists; refusing to replace keys")
        }
        let key = Curve25519.Signing.PrivateKey()
        for (name, bytes, mode) in [
            (privateFile, key.rawRepresentation, 0o600), (publicFile, key.publicKey.rawRepresentation, 0o644),
        ] {
            let path = directory.appendingPathComponent(name).path
            guard
                FileManager.default.createFile(
                    atPath: path, contents: Data((bytes.base64EncodedString() + "\n").utf8),
                    attributes: [.posixPermissions: mode])
            else { throw KeyError("cannot write \(path)") }
        }
    }

    /// The private key in `path` (a `signing.key`, or a key directory holding one).
    public static func loadPrivate(_ path: String) throws -> Curve25519.Signing.PrivateKey {
        let bytes = try read(path, default: privateFile, what: "private signing key")
        do { return try Curve25519.Signing.PrivateKey(rawRepresentation: bytes) } catch {
            throw KeyError("\(path) is not an Ed25519 private key (base64 of 32 bytes)")
        }
    }

    /// The public key in `path` (a `signing.pub`, or a key directory holding one).
    public static func loadPublic(_ path: String) throws -> Curve25519.Signing.PublicKey {
        let bytes = try read(path, default: publicFile, what: "public signing key")
        do { return try Curve25519.Signing.PublicKey(rawRepresentation: bytes) } catch {
            throw KeyError("\(path) is not an Ed25519 public key (base64 of 32 bytes)")
        }
    }

    private static func read(_ path: String, default name: String, what: String) throws -> Data {
        var isDirectory: ObjCBool = false
        let file =
            FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
            ? URL(fileURLWithPath: path).appendingPathComponent(name).path : path
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw KeyError("no \(what) at \(file); create one with `lethe keys init DIR`")
        }
        guard let bytes = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw KeyError("\(file) is not base64")
        }
        return bytes
    }
}
