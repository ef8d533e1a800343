/// The ZAP protocol (RFC 27): what libzmq asks the handler and how the handler answers.
struct ZAPRequest {
    /// The ZAP version this handler speaks.
    static let version = Array("1.0".utf8)

    let requestID: [UInt8]
    let mechanism: String
    let credentials: [[UInt8]]

    /// Parses the frames of a request: version, request id, domain, address, routing id, mechanism, credentials…
    /// Nil when the request is malformed.
    init?(frames: [[UInt8]]) {
        guard frames.count >= 6, frames[0] == Self.version else { return nil }
        requestID = frames[1]
        mechanism = String(decoding: frames[5], as: UTF8.self)
        credentials = Array(frames[6...])
    }

    /// The Z85 client key of a CURVE request (its one credential: 32 raw key bytes).
    var curveClientKey: String? {
        guard mechanism == "CURVE", credentials.count == 1 else { return nil }
        return CurveKeyPair.encode(credentials[0])
    }
}

/// A handler's answer to one ZAP request.
struct ZAPReply: Equatable {
    let status: String
    let text: String
    let userID: String

    static func allowed(userID: String) -> ZAPReply { ZAPReply(status: "200", text: "OK", userID: userID) }
    static func refused(_ reason: String) -> ZAPReply { ZAPReply(status: "400", text: reason, userID: "") }
    static func failed(_ reason: String) -> ZAPReply { ZAPReply(status: "500", text: reason, userID: "") }

    var isAllowed: Bool { status == "200" }

    /// The reply frames: version, request id, status code, status text, user id, metadata (empty).
    func frames(requestID: [UInt8]) -> [Frame] {
        [Frame(ZAPRequest.version), Frame(requestID), Frame(status), Frame(text), Frame(userID), Frame([])]
    }
}
