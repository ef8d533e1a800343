import Foundation
import Testing
import ZeroMQ

struct ErrorTests {
    @Test func routerMandatoryToUnknownPeerIsHostUnreachable() throws {
        let context = try ZeroMQContext()
        let router = try ZeroMQSocket(context, type: .router)
        try router.set(.routerMandatory, to: true)
        try router.bind("tcp://127.0.0.1:*")
        let error = try #require(throws: ZeroMQError.self) {
            try router.send([Frame("nobody"), Frame("payload")])
        }
        #expect(error.isHostUnreachable)
        #expect(error.code == EHOSTUNREACH)
        #expect(error.call == "zmq_msg_send")
        #expect(!error.isWouldBlock)
        #expect("\(error)".contains("zmq_msg_send"))
    }

    @Test func routerWithoutMandatoryDropsSilently() throws {
        let context = try ZeroMQContext()
        let router = try ZeroMQSocket(context, type: .router)
        try router.send([Frame("nobody"), Frame("payload")])
    }

    @Test func dontWaitReceiveReturnsNil() throws {
        let context = try ZeroMQContext()
        let router = try ZeroMQSocket(context, type: .router)
        try router.bind("tcp://127.0.0.1:*")
        #expect(try router.receive(dontWait: true) == nil)
    }

    @Test func receiveTimeoutReturnsNil() throws {
        let context = try ZeroMQContext()
        let dealer = try ZeroMQSocket(context, type: .dealer)
        let start = ContinuousClock.now
        #expect(try dealer.receive(timeoutMilliseconds: 50) == nil)
        #expect(ContinuousClock.now - start >= .milliseconds(40))
    }

    @Test func dontWaitSendWithoutPeerWouldBlock() throws {
        let context = try ZeroMQContext()
        let dealer = try ZeroMQSocket(context, type: .dealer)  // no connection: nowhere to queue
        let error = try #require(throws: ZeroMQError.self) { try dealer.send([Frame("x")], dontWait: true) }
        #expect(error.isWouldBlock)
        #expect(error.code == EAGAIN)
    }

    @Test func closedSocketThrowsAndCloseIsIdempotent() throws {
        let context = try ZeroMQContext()
        let socket = try ZeroMQSocket(context, type: .dealer)
        socket.close()
        socket.close()
        #expect(socket.isClosed)
        let error = try #require(throws: ZeroMQError.self) { try socket.send([Frame("x")]) }
        #expect(error.isClosed)
        #expect(throws: ZeroMQError.self) { try socket.receive(dontWait: true) }
        #expect(throws: ZeroMQError.self) { try socket.connect("tcp://127.0.0.1:1") }
        #expect(throws: ZeroMQError.self) { try Poller([socket]).readable(timeoutMilliseconds: 0) }
    }

    @Test func badEndpointKeepsErrnoAndCall() throws {
        let context = try ZeroMQContext()
        let socket = try ZeroMQSocket(context, type: .router)
        let error = try #require(throws: ZeroMQError.self) { try socket.bind("bogus://nowhere") }
        #expect(error.call == "zmq_bind")
        #expect(error.code == EPROTONOSUPPORT)
        #expect(!error.message.isEmpty)
    }

    @Test func socketsOutliveTheirContextReference() throws {
        // The socket keeps the context alive, so dropping the caller's reference first is fine.
        var context: ZeroMQContext? = try ZeroMQContext()
        let pair = try ZeroMQSocket(context!, type: .pair)
        context = nil
        try pair.bind("tcp://127.0.0.1:*")
        pair.close()
    }
}
