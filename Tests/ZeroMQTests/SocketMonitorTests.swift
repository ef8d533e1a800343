import Foundation
import Testing
import ZeroMQ

/// What a connecting DEALER's monitor events say when nothing listens, when the server refuses its key, when its
/// security does not match the server's, and when all goes well. Clients have contexts of their own, as separate
/// processes would.
struct SocketMonitorTests {
    /// Reads `monitor`'s events into a status until `done` holds for it (or patience runs out).
    private func status(
        of monitor: SocketMonitor, until done: (ConnectionStatus) -> Bool
    ) throws -> ConnectionStatus {
        var status = ConnectionStatus()
        let deadline = ContinuousClock.now + .milliseconds(patience)
        while !done(status), ContinuousClock.now < deadline {
            if let event = try monitor.next(timeoutMilliseconds: 100) { status.record(event) }
        }
        return status
    }

    /// A TCP endpoint on which nothing listens: bound to a free port, then closed.
    private func vacantEndpoint() throws -> String {
        let socket = try ZeroMQSocket(ZeroMQContext(), type: .router)
        let endpoint = try socket.bind("tcp://127.0.0.1:*")
        try socket.unbind(endpoint)
        socket.close()
        return endpoint
    }

    @Test func nothingListeningIsRetriedWithoutAConnection() throws {
        let dealer = try ZeroMQSocket(ZeroMQContext(), type: .dealer)
        let monitor = try dealer.monitor()
        try dealer.connect(try vacantEndpoint())
        let status = try status(of: monitor) { $0.failedAttempts >= 3 }
        #expect(status.failure == .notAccepted)
        #expect(status.failedAttempts >= 3)
        #expect(!status.hasEverConnected && !status.isReady)
        #expect(status.failingSince != nil)
    }

    @Test func aKeyTheServerDoesNotAllowFailsAuthentication() throws {
        let server = try CurveAuthTests.Server()
        let stranger = try CurveKeyPair.generate()
        let dealer = try ZeroMQSocket(ZeroMQContext(), type: .dealer)
        try dealer.makeCurveClient(serverPublicKey: server.keys.publicKey, keyPair: stranger)
        let monitor = try dealer.monitor()
        try dealer.connect(server.endpoint)
        let status = try status(of: monitor) { $0.failure != nil }
        #expect(status.failure == .authenticationRefused(statusCode: 400))
        #expect(status.hasEverConnected && !status.isReady)
        withExtendedLifetime(server) {}
    }

    @Test func aPlaintextClientOfACurveServerIsAMechanismMismatch() throws {
        let server = try CurveAuthTests.Server()
        let dealer = try ZeroMQSocket(ZeroMQContext(), type: .dealer)
        let monitor = try dealer.monitor()
        try dealer.connect(server.endpoint)
        // An attempt may see only the server closing the connection (EPIPE), when it read our greeting first.
        let status = try status(of: monitor) { $0.failure == .mechanismMismatch }
        #expect(status.failure == .mechanismMismatch)
        withExtendedLifetime(server) {}
    }

    @Test func aCurveClientOfAPlaintextServerIsAMechanismMismatch() throws {
        let router = try ZeroMQSocket(ZeroMQContext(), type: .router)
        let endpoint = try router.bind("tcp://127.0.0.1:*")
        let dealer = try ZeroMQSocket(ZeroMQContext(), type: .dealer)
        try dealer.makeCurveClient(
            serverPublicKey: try CurveKeyPair.generate().publicKey, keyPair: try CurveKeyPair.generate())
        let monitor = try dealer.monitor()
        try dealer.connect(endpoint)
        // An attempt may see only the server closing the connection (EPIPE), when it read our greeting first.
        let status = try status(of: monitor) { $0.failure == .mechanismMismatch }
        #expect(status.failure == .mechanismMismatch)
        withExtendedLifetime(router) {}
    }

    @Test func aWrongServerKeyBreaksTheHandshake() throws {
        let server = try CurveAuthTests.Server()
        let keys = try CurveKeyPair.generate()
        try server.zap.allow(keys.publicKey)
        let dealer = try ZeroMQSocket(ZeroMQContext(), type: .dealer)
        try dealer.makeCurveClient(serverPublicKey: try CurveKeyPair.generate().publicKey, keyPair: keys)
        let monitor = try dealer.monitor()
        try dealer.connect(server.endpoint)
        let status = try status(of: monitor) { $0.failure != nil }
        let failure = try #require(status.failure)
        switch failure {
        case .closedDuringHandshake, .protocolError: break  // 4.3.4: the server closes (EPIPE)
        default: Issue.record("unexpected \(failure)")
        }
        #expect(status.hasEverConnected && !status.isReady)
        withExtendedLifetime(server) {}
    }

    @Test func anAllowedClientIsReadyThroughItsLoop() async throws {
        let server = try CurveAuthTests.Server()
        let keys = try CurveKeyPair.generate()
        try server.zap.allow(keys.publicKey)
        let dealer = try ZeroMQSocket(ZeroMQContext(), type: .dealer)
        try dealer.makeCurveClient(serverPublicKey: server.keys.publicKey, keyPair: keys)
        let monitor = try dealer.monitor()
        try dealer.connect(server.endpoint)
        let loop = try SocketLoop(sockets: [dealer], monitors: [0: monitor])
        defer { loop.stop() }
        #expect(loop.connectionStatus(of: 0) != nil)
        let deadline = ContinuousClock.now + .milliseconds(patience)
        while loop.connectionStatus(of: 0)?.isReady != true, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        let status = try #require(loop.connectionStatus(of: 0))
        #expect(status.isReady && status.hasEverBeenReady && status.failure == nil)
        withExtendedLifetime(server) {}
    }

    @Test func aLoopReportsARefusedConnection() async throws {
        let dealer = try ZeroMQSocket(ZeroMQContext(), type: .dealer)
        let monitor = try dealer.monitor()
        try dealer.connect(try vacantEndpoint())
        let loop = try SocketLoop(sockets: [dealer], monitors: [0: monitor])
        defer { loop.stop() }
        let deadline = ContinuousClock.now + .milliseconds(patience)
        while loop.connectionStatus(of: 0)?.failure == nil, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(loop.connectionStatus(of: 0)?.failure == .notAccepted)
        #expect(loop.connectionStatus(of: 1) == nil)
    }
}

/// How events fold into a status, without sockets.
struct ConnectionStatusTests {
    private func event(_ kind: SocketEvent.Kind, _ value: UInt32 = 0) -> SocketEvent {
        SocketEvent(kind: kind, value: value, endpoint: "tcp://127.0.0.1:1")
    }

    @Test func aTellingFailureIsNotReplacedByABrokenOffHandshake() {
        var status = ConnectionStatus()
        for kind in [SocketEvent.Kind.connectDelayed, .connected] { status.record(event(kind)) }
        status.record(event(.handshakeFailedNoDetail, 32))
        #expect(status.failure == .closedDuringHandshake(errno: 32))
        status.record(event(.handshakeFailedProtocol, SocketEvent.ProtocolError.mechanismMismatch))
        status.record(event(.disconnected))
        status.record(event(.connectRetried, 100))
        status.record(event(.connected))
        status.record(event(.handshakeFailedNoDetail, 32))
        #expect(status.failure == .mechanismMismatch)
        #expect(status.failedAttempts == 3)
    }

    @Test func aSuccessfulHandshakeClearsTheFailures() {
        var status = ConnectionStatus()
        status.record(event(.connectRetried, 100))
        #expect(status.failure == .notAccepted && !status.hasEverConnected)
        status.record(event(.connected))
        status.record(event(.handshakeSucceeded))
        #expect(status.isReady && status.failure == nil && status.failingSince == nil && status.failedAttempts == 0)
        status.record(event(.disconnected))
        status.record(event(.connectRetried, 100))  // the retry after losing a connection is no refusal
        #expect(!status.isReady && status.failure == nil && status.hasEverBeenReady)
    }
}
