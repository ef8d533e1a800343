import Testing
import ZeroMQ

/// The consumer side runs on the cooperative pool and must not block it: the DEALER peers here are read with
/// `receiveEventually`, which polls and sleeps.
struct SocketLoopTests {
    /// A ROUTER (with `routerMandatory`) owned by a loop, and a DEALER peer connected to it.
    private func echoSetup(_ transport: Transport, _ scratch: Scratch) throws -> (SocketLoop, ZeroMQSocket) {
        let context = try ZeroMQContext()
        let router = try ZeroMQSocket(context, type: .router)
        try router.set(.routerMandatory, to: true)
        let endpoint = try router.bind(scratch.endpoint(transport))
        let loop = try SocketLoop(sockets: [router])
        let dealer = try ZeroMQSocket(context, type: .dealer)
        try dealer.connect(endpoint)
        return (loop, dealer)
    }

    @Test(arguments: [Transport.inproc, .tcp])
    func echoesThroughTheLoop(_ transport: Transport) async throws {
        let scratch = try Scratch()
        let (loop, dealer) = try echoSetup(transport, scratch)
        let guardTask = watchdog { loop.stop() }  // a hang becomes a finished stream, i.e. a failed expectation
        defer { guardTask.cancel() }

        let count = 50
        for index in 0..<count { try dealer.send([Frame("request"), Frame(pattern(index + 1))]) }
        var incoming = loop.incoming.makeAsyncIterator()
        for index in 0..<count {
            let (socket, message) = try #require(await incoming.next())
            #expect(socket == 0)
            #expect(message.frames.dropFirst() == [Array("request".utf8), pattern(index + 1)])
            #expect(loop.send([Frame(message.frames[0]), Frame("reply"), Frame(message.frames[2])], on: socket))
        }
        for index in 0..<count {
            let reply = try #require(try await dealer.receiveEventually())
            #expect(reply.frames == [Array("reply".utf8), pattern(index + 1)])
        }
    }

    @Test func sendFailureIsReportedAndTheLoopCarriesOn() async throws {
        let scratch = try Scratch()
        let (loop, dealer) = try echoSetup(.inproc, scratch)
        let guardTask = watchdog { loop.stop() }
        defer { guardTask.cancel() }

        loop.send([Frame("nobody"), Frame("lost")], on: 0)
        var failures = loop.sendFailures.makeAsyncIterator()
        let failure = try #require(await failures.next())
        #expect(failure.socket == 0)
        #expect(failure.error.isHostUnreachable)
        #expect(failure.firstFrame == Array("nobody".utf8))

        try dealer.send([Frame("ping")])
        var incoming = loop.incoming.makeAsyncIterator()
        let (socket, message) = try #require(await incoming.next())
        loop.send([Frame(message.frames[0]), Frame("pong")], on: socket)
        #expect(try await dealer.receiveEventually()?.frames == [Array("pong".utf8)])
    }

    @Test func stopClosesTheSocketsAndFinishesTheStreams() async throws {
        let context = try ZeroMQContext()
        let router = try ZeroMQSocket(context, type: .router)
        try router.bind("tcp://127.0.0.1:*")
        let pair = try ZeroMQSocket(context, type: .pair)
        let loop = try SocketLoop(sockets: [router, pair])
        #expect(loop.socketCount == 2)
        loop.stop()
        loop.stop()
        #expect(router.isClosed && pair.isClosed)
        #expect(!loop.send([Frame("late")], on: 1))
        var incoming = loop.incoming.makeAsyncIterator()
        #expect(await incoming.next() == nil)
        var failures = loop.sendFailures.makeAsyncIterator()
        #expect(await failures.next() == nil)
    }

    @Test func loopIsStoppedWhenReleased() async throws {
        let context = try ZeroMQContext()
        let router = try ZeroMQSocket(context, type: .router)
        var loop: SocketLoop? = try SocketLoop(sockets: [router])
        let incoming = try #require(loop?.incoming)
        loop = nil
        #expect(router.isClosed)
        var iterator = incoming.makeAsyncIterator()
        #expect(await iterator.next() == nil)
    }

    @Test func sendsFromManyTasksAllArrive() async throws {
        let scratch = try Scratch()
        let context = try ZeroMQContext()
        let pair = try ZeroMQSocket(context, type: .pair)
        let endpoint = try pair.bind(scratch.endpoint(.inproc))
        let peer = try ZeroMQSocket(context, type: .pair)
        try peer.connect(endpoint)
        let loop = try SocketLoop(sockets: [pair])
        await withTaskGroup(of: Void.self) { group in
            for task in 0..<8 {
                group.addTask {
                    for index in 0..<25 { loop.send([Frame([UInt8(task), UInt8(index)])], on: 0) }
                }
            }
        }
        var seen: Set<[UInt8]> = []
        while seen.count < 200, let message = try await peer.receiveEventually() {
            seen.insert(message.frames[0])
        }
        #expect(seen.count == 200)
        loop.stop()
    }
}
