import Testing
import ZeroMQ

struct CurveKeyPairTests {
    @Test func generatedKeysAreZ85AndDeriveBack() throws {
        let pair = try CurveKeyPair.generate()
        #expect(pair.publicKey.utf8.count == 40)
        #expect(pair.secretKey.utf8.count == 40)
        #expect(try CurveKeyPair(secretKey: pair.secretKey) == pair)
        #expect(try CurveKeyPair.generate() != pair)
    }

    @Test func derivesTheKnownPublicKeyOfRFC26() throws {
        // The example server key pair from the CurveZMQ specification (rfc.zeromq.org/spec/26).
        let pair = try CurveKeyPair(secretKey: "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6")
        #expect(pair.publicKey == "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7")
    }

    @Test func descriptionHidesTheSecretKey() throws {
        let pair = try CurveKeyPair.generate()
        #expect("\(pair)".contains(pair.publicKey))
        #expect(!"\(pair)".contains(pair.secretKey))
    }

    @Test(arguments: ["", "short", String(repeating: "a", count: 41)])
    func rejectsKeysOfTheWrongLength(_ key: String) {
        #expect(throws: CurveKeyError.wrongLength(key.utf8.count)) { try CurveKeyPair(secretKey: key) }
    }

    @Test(arguments: [
        String(repeating: "a", count: 39) + "~",  // not in the Z85 alphabet
        String(repeating: "a", count: 39) + " ",
        String(repeating: "a", count: 35) + "\0aaaa",  // an embedded NUL would hide the rest from C
        String(repeating: "é", count: 20),  // 40 UTF-8 bytes, none of them Z85
    ])
    func rejectsKeysThatAreNotZ85(_ key: String) {
        #expect(throws: CurveKeyError.notZ85) { try CurveKeyPair.validate(key) }
        #expect(throws: CurveKeyError.notZ85) { try CurveKeyPair(secretKey: key) }
    }

    @Test func socketConfigurationValidatesKeys() throws {
        let context = try ZeroMQContext()
        let socket = try ZeroMQSocket(context, type: .dealer)
        let pair = try CurveKeyPair.generate()
        #expect(throws: CurveKeyError.wrongLength(3)) {
            try socket.makeCurveClient(serverPublicKey: "abc", keyPair: pair)
        }
        #expect(throws: CurveKeyError.notZ85) {
            try socket.makeCurveServer(secretKey: String(repeating: "|", count: 40))
        }
        #expect("\(CurveKeyError.wrongLength(3))".contains("40 Z85 characters"))
    }
}
