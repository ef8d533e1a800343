import Testing
import ZeroMQ

struct MaxMessageSizeTests {
    /// Receives on `router` until a message satisfies `last`, then for `graceMilliseconds` more.
    private func collect(
        _ router: ZeroMQSocket, until last: (Message) -> Bool, graceMilliseconds: Int = 300
    ) throws -> [Message] {
        var messages: [Message] = []
        while let message = try router.receive(timeoutMilliseconds: patience) {
            messages.append(message)
            if last(message) { break }
        }
        while let message = try router.receive(timeoutMilliseconds: graceMilliseconds) { messages.append(message) }
        return messages
    }

    @Test(arguments: [Transport.tcp, .ipc])
    func oversizedMessageIsNeverDeliveredAndTheRouterKeepsServing(_ transport: Transport) throws {
        let scratch = try Scratch()
        let context = try ZeroMQContext()
        let router = try ZeroMQSocket(context, type: .router)
        try router.set(.maxMessageSize, to: 1024)
        let endpoint = try router.bind(scratch.endpoint(transport))

        let greedy = try ZeroMQSocket(context, type: .dealer)
        try greedy.set(.routingID, to: Array("greedy".utf8))
        try greedy.connect(endpoint)
        try greedy.send([Frame(pattern(4096))])

        let polite = try ZeroMQSocket(context, type: .dealer)
        try polite.set(.routingID, to: Array("polite".utf8))
        try polite.connect(endpoint)
        try polite.send([Frame("small")])

        let messages = try collect(router) { $0.frames.first == Array("polite".utf8) }
        #expect(messages.map(\.frames) == [[Array("polite".utf8), Array("small".utf8)]])

        try router.send([Frame("polite"), Frame("answer")])
        #expect(try polite.receive(timeoutMilliseconds: patience)?.frames == [Array("answer".utf8)])
    }

    @Test func limitAppliesToEachFrameNotTheWholeMessage() throws {
        let context = try ZeroMQContext()
        let router = try ZeroMQSocket(context, type: .router)
        try router.set(.maxMessageSize, to: 1024)
        let endpoint = try router.bind("tcp://127.0.0.1:*")
        let dealer = try ZeroMQSocket(context, type: .dealer)
        try dealer.connect(endpoint)
        try dealer.send([Frame(pattern(1000)), Frame(pattern(1000)), Frame(pattern(1024))])  // 3024 bytes in all
        let message = try #require(try router.receive(timeoutMilliseconds: patience))
        #expect(message.frames.dropFirst().map(\.count) == [1000, 1000, 1024])
    }

    @Test func limitIsNotEnforcedOverInproc() throws {
        let scratch = try Scratch()
        let context = try ZeroMQContext()
        let router = try ZeroMQSocket(context, type: .router)
        try router.set(.maxMessageSize, to: 16)
        let dealer = try ZeroMQSocket(context, type: .dealer)
        try dealer.connect(try router.bind(scratch.endpoint(.inproc)))
        try dealer.send([Frame(pattern(4096))])
        let message = try #require(try router.receive(timeoutMilliseconds: patience))
        #expect(message.frames.last?.count == 4096)
    }
}
