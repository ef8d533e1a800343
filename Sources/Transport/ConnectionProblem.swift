/// Why a client cannot talk to its server, as far as its transport can tell from the connection's events
/// (DESIGN §8: say what was wrong and how to fix it). Callers switch on `kind`; the text is for people.
public struct ConnectionProblem: Error, Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// No attempt to connect ever got through: nothing accepts connections at the endpoint (or it cannot be
        /// reached).
        case nothingListening
        /// The server refused our CURVE public key; its ZAP handler answered `statusCode` (400: not allowed).
        case keyRefused(publicKey: String, statusCode: Int)
        /// The peers use different security mechanisms: we are plaintext (`--insecure`) and the server uses CURVE
        /// (or another mechanism), or we use CURVE and the server does not.
        case securityMismatch(clientIsPlaintext: Bool)
        /// The server broke the handshake off before judging our key (it closed the connection, or a CURVE box did
        /// not open). The events do not tell why: for a CURVE client, the server may run without CURVE or the
        /// server public key we trust may not be its key; for a plaintext one, the server likely uses CURVE.
        case handshakeBrokenOff(clientIsPlaintext: Bool)
    }

    public let kind: Kind
    /// The endpoint the client connects to.
    public let endpoint: String

    public init(_ kind: Kind, endpoint: String) {
        self.kind = kind
        self.endpoint = endpoint
    }

    /// What is wrong with the connection to the coordinator and how to fix it, for a client whose key belongs on
    /// `allowlist` (`users` for the CLI, `workers` for workers and federated clients).
    public func explanation(allowlist: KeyDirectory.Allowlist) -> String {
        switch kind {
        case .nothingListening:
            return
                "could not connect to \(endpoint): nothing is listening there, or it cannot be reached (is the coordinator running? is the address right?)"
        case .keyRefused(let key, let status):
            let command = allowlist == .users ? "add-user" : "add-worker"
            let reason =
                status == 400
                ? "it is not in the coordinator's \(allowlist).allow"
                : "its ZAP handler answered status \(status)"
            return
                "the coordinator at \(endpoint) refused this key (\(key.prefix(8))…): \(reason); on the coordinator's machine run `lethe keys \(command) --keys DIR '\(key)'` with its key directory (it rereads the list within 2 s), or use a key that is allowed"
        case .securityMismatch(clientIsPlaintext: true), .handshakeBrokenOff(clientIsPlaintext: true):
            let what =
                kind == .securityMismatch(clientIsPlaintext: true)
                ? "the coordinator uses CURVE (or another security mechanism)"
                : "the coordinator broke it off, as it does when it uses CURVE"
            return
                "the security handshake with \(endpoint) failed: \(what) and this side is plaintext (--insecure); give --keys DIR (or set LETHE_KEYS) instead of --insecure"
        case .securityMismatch(clientIsPlaintext: false):
            return
                "the security handshake with \(endpoint) failed: this side uses CURVE keys and the coordinator does not (does it run with --insecure?); give --insecure here too, or run the coordinator with --keys"
        case .handshakeBrokenOff(clientIsPlaintext: false):
            return
                "the security handshake with \(endpoint) failed: the coordinator broke it off before judging this key; either it runs without CURVE (--insecure), or coordinator.public in the key directory is not its public key (the one its coordinator.secret belongs to)"
        }
    }
}
