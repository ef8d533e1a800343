import Testing
import Transport
import Wire

struct InMemoryTransportTests {
    /// A client handed on without its hub (the hub's variable gone) still reaches the server, and hears back.
    @Test(.timeLimit(.minutes(1))) func anOpenClientKeepsItsHubAlive() async throws {
        func connectedPair() -> (server: InMemoryTransport, client: InMemoryTransport) {
            let hub = InMemoryHub()
            return (hub.server, hub.connect(key: "worker"))
        }
        let (server, client) = connectedPair()
        client.send([FramePayload([1, 2, 3])], to: nil)
        var serverSide = server.incoming.makeAsyncIterator()
        let request = try #require(await serverSide.next())
        #expect(request.frames == [[1, 2, 3]] && request.peer.key == "worker")
        server.send([FramePayload([4])], to: request.peer)
        var clientSide = client.incoming.makeAsyncIterator()
        #expect(await clientSide.next()?.frames == [[4]])
        client.close()
        server.close()
    }
}
