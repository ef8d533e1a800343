import Testing
import ZeroMQ

struct RoundTripTests {
    @Test(arguments: Transport.allCases)
    func routerDealerMultipartRoundTrip(_ transport: Transport) throws {
        let scratch = try Scratch()
        let context = try ZeroMQContext()
        let router = try ZeroMQSocket(context, type: .router)
        let endpoint = try router.bind(scratch.endpoint(transport))
        let dealer = try ZeroMQSocket(context, type: .dealer)
        try dealer.connect(endpoint)

        let payload = pattern(10_000)
        try dealer.send([Frame("hello"), Frame(payload), Frame([])])
        let request = try #require(try router.receive(timeoutMilliseconds: patience))
        #expect(request.frames.count == 4)  // routing id prepended by the ROUTER
        #expect(Array(request.frames.dropFirst()) == [Array("hello".utf8), payload, []])
        #expect(request.userID == nil)  // no ZAP handler was involved

        try router.send([Frame(request.frames[0]), Frame("reply"), Frame(pattern(3, seed: 7))])
        let reply = try #require(try dealer.receive(timeoutMilliseconds: patience))
        #expect(reply.frames == [Array("reply".utf8), [7, 8, 9]])
    }

    @Test func bindResolvesTCPWildcardPort() throws {
        let context = try ZeroMQContext()
        let socket = try ZeroMQSocket(context, type: .router)
        let endpoint = try socket.bind("tcp://127.0.0.1:*")
        #expect(endpoint.hasPrefix("tcp://127.0.0.1:"))
        let port = try #require(Int(endpoint.dropFirst("tcp://127.0.0.1:".count)))
        #expect(port > 0 && port < 65536)
        #expect(try socket.get(.lastEndpoint) == endpoint)
        try socket.unbind(endpoint)
    }

    @Test(arguments: [Transport.inproc, .ipc])
    func bindReturnsNamedEndpoints(_ transport: Transport) throws {
        let scratch = try Scratch()
        let context = try ZeroMQContext()
        let socket = try ZeroMQSocket(context, type: .pair)
        let requested = scratch.endpoint(transport)
        #expect(try socket.bind(requested) == requested)
    }

    @Test func routingIDIsWhatTheRouterSees() throws {
        let context = try ZeroMQContext()
        let router = try ZeroMQSocket(context, type: .router)
        let endpoint = try router.bind("tcp://127.0.0.1:*")
        let dealer = try ZeroMQSocket(context, type: .dealer)
        try dealer.set(.routingID, to: Array("worker-7".utf8))
        #expect(try dealer.get(.routingID) == Array("worker-7".utf8))
        try dealer.connect(endpoint)
        try dealer.send([Frame("hi")])
        let message = try #require(try router.receive(timeoutMilliseconds: patience))
        #expect(message.frames == [Array("worker-7".utf8), Array("hi".utf8)])
    }

    @Test func optionsReadBackWhatWasSet() throws {
        let context = try ZeroMQContext()
        let socket = try ZeroMQSocket(context, type: .dealer)
        #expect(try socket.get(.linger) == 0)  // our default, not libzmq's -1
        try socket.set(.sendHighWaterMark, to: 10)
        try socket.set(.receiveHighWaterMark, to: 20)
        try socket.set(.maxMessageSize, to: 1 << 40)
        try socket.set(.heartbeatInterval, to: 250)
        try socket.set(.zapDomain, to: "lethe")
        #expect(try socket.get(.sendHighWaterMark) == 10)
        #expect(try socket.get(.receiveHighWaterMark) == 20)
        #expect(try socket.get(.maxMessageSize) == 1 << 40)
        #expect(try socket.get(.heartbeatInterval) == 250)
        #expect(try socket.get(.zapDomain) == "lethe")
    }

    @Test func publisherReachesSubscriber() throws {
        let scratch = try Scratch()
        let context = try ZeroMQContext()
        let publisher = try ZeroMQSocket(context, type: .pub)
        let endpoint = try publisher.bind(scratch.endpoint(.inproc))
        let subscriber = try ZeroMQSocket(context, type: .sub)
        try subscriber.set(.subscribe, to: Array("news".utf8))
        try subscriber.connect(endpoint)
        // Subscriptions reach the publisher asynchronously; publish until one arrives.
        var received: Message?
        for _ in 0..<100 where received == nil {
            try publisher.send([Frame("sports"), Frame("skip")])
            try publisher.send([Frame("news"), Frame("keep")])
            received = try subscriber.receive(timeoutMilliseconds: 50)
        }
        #expect(received?.frames == [Array("news".utf8), Array("keep".utf8)])
    }
}

struct IOThreadTests {
    @Test func aContextRunsTheIOThreadsItWasGiven() throws {
        #expect(try ZeroMQContext().ioThreads == 1)
        #expect(try ZeroMQContext(ioThreads: 3).ioThreads == 3)
        #expect(try ZeroMQContext(ioThreads: 0).ioThreads == 1)
    }

    /// A hub with two I/O threads serves two peers at once, each answered on its own connection.
    @Test func aHubWithTwoIOThreadsServesTwoPeers() throws {
        let hub = try ZeroMQContext(ioThreads: 2)
        let router = try ZeroMQSocket(hub, type: .router)
        let endpoint = try router.bind("tcp://127.0.0.1:*")
        let peers = try (0..<2).map { _ in try ZeroMQSocket(ZeroMQContext(), type: .dealer) }
        for (index, peer) in peers.enumerated() {
            try peer.connect(endpoint)
            try peer.send([Frame(pattern(100_000, seed: UInt8(index)))])
        }
        for _ in peers {
            let request = try #require(try router.receive(timeoutMilliseconds: patience))
            try router.send([Frame(request.frames[0]), Frame(request.frames[1].reversed())])
        }
        for (index, peer) in peers.enumerated() {
            let reply = try #require(try peer.receive(timeoutMilliseconds: patience))
            #expect(reply.frames == [Array(pattern(100_000, seed: UInt8(index)).reversed())])
        }
    }
}
