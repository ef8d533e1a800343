extension ZeroMQSocket {
    /// Makes this socket a CURVE server with `secretKey` (Z85). Call before `bind`.
    ///
    /// Clients are authenticated by the context's `ZAPHandler`, which must be running before clients connect.
    /// libzmq 4.3 consults ZAP only for sockets with a ZAP domain (without one it accepts every client that knows
    /// the server key), so this always sets `zapDomain`. With `requireZAP` (the default) the socket also refuses
    /// every connection while no ZAP handler runs, instead of accepting it; this needs libzmq's
    /// `ZMQ_ZAP_ENFORCE_DOMAIN` (a draft option that Debian's build accepts) and throws `EINVAL` where it is missing.
    public func makeCurveServer(secretKey: String, zapDomain: String = "lethe", requireZAP: Bool = true) throws {
        precondition(!zapDomain.isEmpty, "an empty ZAP domain would turn authentication off")
        try CurveKeyPair.validate(secretKey)
        try set(.curveServer, to: true)
        try set(.curveSecretKey, to: secretKey)
        try set(.zapDomain, to: zapDomain)
        if requireZAP {
            try set(.zapEnforceDomain, to: true)
        }
    }

    /// Makes this socket a CURVE client of the server whose Z85 public key is `serverPublicKey`, authenticating
    /// with `keyPair`. Call before `connect`.
    public func makeCurveClient(serverPublicKey: String, keyPair: CurveKeyPair) throws {
        try CurveKeyPair.validate(serverPublicKey)
        try set(.curveServerKey, to: serverPublicKey)
        try set(.curvePublicKey, to: keyPair.publicKey)
        try set(.curveSecretKey, to: keyPair.secretKey)
    }
}
