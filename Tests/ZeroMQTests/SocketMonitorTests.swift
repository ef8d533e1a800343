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

    /// A TCP endpoint on which nothing listens: a port held by a socket that is bound but never listens (connections
    /// are refused), so that no other test running meanwhile can take the port and accept. Close the descriptor after.
    private func vacantEndpoint() throws -> (endpoint: String, descriptor: Int32) {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(descriptor >= 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0
            }
        }
        try #require(bound, "cannot hold a loopback port")
        return ("tcp://127.0.0.1:\(UInt16(bigEndian: address.sin_port))", descriptor)
    }

    @Test func nothingListeningIsRetriedWithoutAConnection() throws {
        let dealer = try ZeroMQSocket(ZeroMQContext(), type: .dealer)
        let monitor = try dealer.monitor()
        let vacant = try vacantEndpoint()
        defer { close(vacant.descriptor) }
        try dealer.connect(vacant.endpoint)
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
        let vacant = try vacantEndpoint()
        defer { close(vacant.descriptor) }
        try dealer.connect(vacant.endpoint)
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
