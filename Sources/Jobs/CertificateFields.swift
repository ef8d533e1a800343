import Foundation
import NN

/// Each field of a certificate's body by its dotted path (objects are walked, an array is one field), with the
/// sha256 of its canonical bytes. The signature covers these digests too, so a certificate changed after signing
/// names the field that changed instead of only failing.
enum CertificateFields {
    static func digests(of body: CanonicalJSON) -> [String: CanonicalJSON] {
        var digests: [String: CanonicalJSON] = [:]
        func walk(_ value: CanonicalJSON, _ path: String) {
            if case .object(let members) = value, !members.isEmpty {
                for (key, member) in members { walk(member, path.isEmpty ? key : "\(path).\(key)") }
            } else {
                digests[path] = .string(sha256Hex(Data(value.bytes)))
            }
        }
        walk(body, "")
        return digests
    }

    /// The first field (in path order) whose digest differs from the signed one, or that was added or removed.
    static func firstChanged(in body: CanonicalJSON, signed: [String: CanonicalJSON]) -> String? {
        let current = digests(of: body)
        return Set(current.keys).union(signed.keys).sorted().first { current[$0] != signed[$0] }
    }
}
