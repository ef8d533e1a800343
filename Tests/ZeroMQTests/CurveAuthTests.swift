import Foundation
import Testing
import ZeroMQ

/// CURVE over TCP with a `ZAPHandler` allowlist. Server and clients use separate contexts, as separate processes
/// would.
struct CurveAuthTests {
    /// A CURVE ROUTER with its ZAP handler, bound to an ephemeral TCP port.
    final class Server {
        let context: ZeroMQContext
        let zap: ZAPHandler
        let keys: CurveKeyPair
        let router: ZeroMQSocket
        let endpoint: String
        let refusedKeys = RefusedKeys()

        init(allowsNull: Bool = false) throws {
            context = try ZeroMQContext()
            let refusedKeys = refusedKeys
            zap = try ZAPHandler(context: context, allowsNull: allowsNull) { _, key in refusedKeys.append(key) }
            keys = try CurveKeyPair.generate()
            router = try ZeroMQSocket(context, type: .router)
            try router.makeCurveServer(secretKey: keys.secretKey)
            endpoint = try router.bind("tcp://127.0.0.1:*")
        }

        /// A connected CURVE DEALER (in its own context) that has already sent `text`.
        func client(_ keyPair: CurveKeyPair, sending text: String) throws -> ZeroMQSocket {
            let dealer = try ZeroMQSocket(ZeroMQContext(), type: .dealer)
            try dealer.makeCurveClient(serverPublicKey: keys.publicKey, keyPair: keyPair)
            try dealer.connect(endpoint)
            try dealer.send([Frame(text)])
            return dealer
        }
    }

    final class RefusedKeys: @unchecked Sendable {
        private let lock = NSLock()
        private var keys: [String?] = []

        func append(_ key: String?) {
            lock.withLock { keys.append(key) }
        }

        var all: [String?] { lock.withLock { keys } }
    }

    @Test func allowedClientIsAuthenticatedByItsPublicKey() throws {
        let server = try Server()
        let clientKeys = try CurveKeyPair.generate()
        try server.zap.allow(clientKeys.publicKey)
        #expect(server.zap.isAllowed(clientKeys.publicKey))

        let client = try server.client(clientKeys, sending: "hello")
        let message = try #require(try server.router.receive(timeoutMilliseconds: patience))
        #expect(message.frames.last == Array("hello".utf8))
        #expect(message.userID == clientKeys.publicKey)

        try server.router.send([Frame(message.frames[0]), Frame("welcome")])
        #expect(try client.receive(timeoutMilliseconds: patience)?.frames == [Array("welcome".utf8)])
        #expect(server.zap.refusalCount == 0)
    }

    @Test func unknownClientIsRefusedWhileAnAllowedOneWorks() throws {
        let server = try Server()
        let allowed = try CurveKeyPair.generate()
        let stranger = try CurveKeyPair.generate()
        try server.zap.allow(allowed.publicKey)

        let strangerSocket = try server.client(stranger, sending: "let me in")
        #expect(eventually { server.zap.refusalCount >= 1 })
        #expect(server.refusedKeys.all.first == stranger.publicKey)

        let allowedSocket = try server.client(allowed, sending: "hello")
        let message = try #require(try server.router.receive(timeoutMilliseconds: patience))
        #expect(message.userID == allowed.publicKey)
        #expect(message.frames.last == Array("hello".utf8))
        // The stranger's handshake never completes, so nothing of it can be waiting.
        #expect(try server.router.receive(timeoutMilliseconds: 200) == nil)
        withExtendedLifetime((strangerSocket, allowedSocket)) {}
    }

    @Test func revokeAppliesToNewConnections() throws {
        let server = try Server()
        let keys = try CurveKeyPair.generate()
        try server.zap.allow(keys.publicKey)
        let first = try server.client(keys, sending: "before")
        let message = try #require(try server.router.receive(timeoutMilliseconds: patience))
        #expect(message.frames.last == Array("before".utf8))

        server.zap.revoke(keys.publicKey)
        #expect(!server.zap.isAllowed(keys.publicKey))
        let second = try server.client(keys, sending: "after")
        #expect(eventually { server.zap.refusalCount >= 1 })
        #expect(server.refusedKeys.all.first == keys.publicKey)

        // The connection authenticated before the revocation stays open.
        try first.send([Frame("still here")])
        let later = try #require(try server.router.receive(timeoutMilliseconds: patience))
        #expect(later.frames.last == Array("still here".utf8))
        withExtendedLifetime(second) {}
    }

    @Test func serverRefusesEveryoneWhileNoZAPHandlerRuns() throws {
        let server = try Server()
        let keys = try CurveKeyPair.generate()
        try server.zap.allow(keys.publicKey)
        server.zap.stop()
        server.zap.stop()
        let client = try server.client(keys, sending: "anyone there?")
        #expect(try server.router.receive(timeoutMilliseconds: 500) == nil)
        withExtendedLifetime(client) {}
    }

    @Test func oneHandlerPerContext() throws {
        let context = try ZeroMQContext()
        let first = try ZAPHandler(context: context)
        let error = try #require(throws: ZeroMQError.self) { try ZAPHandler(context: context) }
        #expect(error.code == EADDRINUSE)
        first.stop()
        _ = try ZAPHandler(context: context)  // the endpoint is free again
    }

    @Test func allowRejectsMalformedKeys() throws {
        let zap = try ZAPHandler(context: ZeroMQContext())
        #expect(throws: CurveKeyError.wrongLength(4)) { try zap.allow("nope") }
        #expect(zap.allowedKeys.isEmpty)
    }

    @Test(arguments: [true, false])
    func nullMechanismNeedsExplicitInsecureMode(_ allowsNull: Bool) throws {
        let context = try ZeroMQContext()
        let zap = try ZAPHandler(context: context, allowsNull: allowsNull)
        let router = try ZeroMQSocket(context, type: .router)
        try router.set(.zapDomain, to: "lethe")  // without a domain libzmq does not ask ZAP about NULL peers
        let endpoint = try router.bind("tcp://127.0.0.1:*")
        let dealer = try ZeroMQSocket(ZeroMQContext(), type: .dealer)
        try dealer.connect(endpoint)
        try dealer.send([Frame("plain text")])

        if allowsNull {
            let message = try #require(try router.receive(timeoutMilliseconds: patience))
            #expect(message.userID == "")
            #expect(zap.refusalCount == 0)
        } else {
            #expect(eventually { zap.refusalCount >= 1 })
            #expect(try router.receive(timeoutMilliseconds: 200) == nil)
        }
    }
}
