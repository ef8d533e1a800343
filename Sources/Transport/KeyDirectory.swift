import Foundation
import ZeroMQ

/// A directory of CURVE keys (`lethe keys init DIR`): the coordinator's, one worker's and one user's key pairs
/// (`<role>.secret`, mode 0600, and `<role>.public`), and the coordinator's allowlists `workers.allow` and
/// `users.allow` (one Z85 public key per line, `#` comments). One directory serves the coordinator, a worker and
/// the CLI on one machine; on others, copy the public keys and the peer's own key pair.
public struct KeyDirectory: Sendable {
    public enum Role: String, Sendable, CaseIterable {
        case coordinator, worker, user
    }

    public enum Allowlist: String, Sendable {
        case workers, users
    }

    public let url: URL

    public init(_ path: String) { url = URL(fileURLWithPath: path) }

    /// Creates the three key pairs and allowlists holding the worker and user keys. Refuses to overwrite keys.
    public static func initialize(_ path: String) throws -> KeyDirectory {
        let directory = KeyDirectory(path)
        try FileManager.default.createDirectory(at: directory.url, withIntermediateDirectories: true)
        for role in Role.allCases where FileManager.default.fileExists(atPath: directory.file("\(role).secret").path) {
            throw KeyError("\(directory.file("\(role).secret").path) exists; refusing to replace keys")
        }
        for role in Role.allCases {
            let keys = try CurveKeyPair.generate()
            try directory.write(keys.secretKey + "\n", to: "\(role).secret", mode: 0o600)
            try directory.write(keys.publicKey + "\n", to: "\(role).public", mode: 0o644)
        }
        try directory.write("# workers allowed to connect (Z85 public keys)\n", to: "workers.allow", mode: 0o644)
        try directory.write(
            "# users allowed to submit and query jobs (Z85 public keys)\n", to: "users.allow", mode: 0o644)
        try directory.add(try directory.keyPair(.worker).publicKey, to: .workers, comment: "worker (lethe keys init)")
        try directory.add(try directory.keyPair(.user).publicKey, to: .users, comment: "user (lethe keys init)")
        try SigningKey.create(in: directory.url)
        return directory
    }

    public func keyPair(_ role: Role) throws -> CurveKeyPair {
        let path = file("\(role).secret")
        guard let text = try? String(contentsOf: path, encoding: .utf8) else {
            throw KeyError("no \(role) key at \(path.path); create one with `lethe keys init \(url.path)`")
        }
        do {
            return try CurveKeyPair(secretKey: text.trimmingCharacters(in: .whitespacesAndNewlines))
        } catch {
            throw KeyError("\(path.path) is not a CURVE secret key: \(error)")
        }
    }

    public func publicKey(_ role: Role) throws -> String {
        let path = file("\(role).public")
        guard let text = try? String(contentsOf: path, encoding: .utf8) else {
            throw KeyError("no \(role) public key at \(path.path)")
        }
        let key = text.trimmingCharacters(in: .whitespacesAndNewlines)
        do { try CurveKeyPair.validate(key) } catch { throw KeyError("\(path.path): \(error)") }
        return key
    }

    /// Creates a federated client's own key pair (`clients/<name>.secret|.public`) and allows it on the worker
    /// endpoint: every client needs its own key, since the coordinator keeps one contribution ledger per key.
    @discardableResult
    public func addClient(_ name: String) throws -> String {
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
            throw KeyError("a client name may hold letters, digits, '-', '_' and '.', not '\(name)'")
        }
        try FileManager.default.createDirectory(at: file("clients"), withIntermediateDirectories: true)
        guard !FileManager.default.fileExists(atPath: file("clients/\(name).secret").path) else {
            throw KeyError("\(file("clients/\(name).secret").path) exists; refusing to replace keys")
        }
        let keys = try CurveKeyPair.generate()
        try write(keys.secretKey + "\n", to: "clients/\(name).secret", mode: 0o600)
        try write(keys.publicKey + "\n", to: "clients/\(name).public", mode: 0o644)
        try add(keys.publicKey, to: .workers, comment: "client \(name)")
        return keys.publicKey
    }

    /// A federated client's key pair made by `addClient`.
    public func clientKeyPair(_ name: String) throws -> CurveKeyPair {
        let path = file("clients/\(name).secret")
        guard let text = try? String(contentsOf: path, encoding: .utf8) else {
            throw KeyError(
                "no key for client '\(name)' at \(path.path); create one with `lethe keys add-client --keys \(url.path) \(name)`"
            )
        }
        do {
            return try CurveKeyPair(secretKey: text.trimmingCharacters(in: .whitespacesAndNewlines))
        } catch {
            throw KeyError("\(path.path) is not a CURVE secret key: \(error)")
        }
    }

    /// The keys on an allowlist (an absent file is an empty list).
    public func allowed(_ list: Allowlist) throws -> Set<String> {
        guard let text = try? String(contentsOf: file("\(list).allow"), encoding: .utf8) else { return [] }
        var keys = Set<String>()
        for line in text.split(separator: "\n") {
            // Z85 keys may contain '#': a comment is a line starting with '#' or what follows the key.
            guard let key = line.split(separator: " ").first.map(String.init), !key.hasPrefix("#") else { continue }
            do { try CurveKeyPair.validate(key) } catch {
                throw KeyError("\(list).allow: '\(key)' is not a key: \(error)")
            }
            keys.insert(key)
        }
        return keys
    }

    public func add(_ key: String, to list: Allowlist, comment: String? = nil) throws {
        do { try CurveKeyPair.validate(key) } catch { throw KeyError("'\(key)' is not a CURVE public key: \(error)") }
        guard try !allowed(list).contains(key) else { return }
        let handle = try FileHandle(forWritingTo: file("\(list).allow"))
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data((key + (comment.map { "  # \($0)" } ?? "") + "\n").utf8))
    }

    /// Removes `key` from both allowlists; returns whether it was on one.
    @discardableResult
    public func revoke(_ key: String) throws -> Bool {
        var found = false
        for list in [Allowlist.workers, .users] {
            let path = file("\(list).allow")
            guard let text = try? String(contentsOf: path, encoding: .utf8) else { continue }
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            let kept = lines.filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix(key) }
            if kept.count != lines.count {
                found = true
                try kept.joined(separator: "\n").write(to: path, atomically: true, encoding: .utf8)
            }
        }
        return found
    }

    func file(_ name: String) -> URL { url.appendingPathComponent(name) }

    private func write(_ text: String, to name: String, mode: Int) throws {
        let path = file(name)
        guard
            FileManager.default.createFile(
                atPath: path.path, contents: Data(text.utf8), attributes: [.posixPermissions: mode])
        else { throw KeyError("cannot write \(path.path)") }
    }
}

public struct KeyError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
