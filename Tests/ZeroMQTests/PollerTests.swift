import Foundation
import Testing
import ZeroMQ

struct PollerTests {
    /// Two connected PAIR sockets over inproc.
    private func pair(_ context: ZeroMQContext, _ scratch: Scratch) throws -> (ZeroMQSocket, ZeroMQSocket) {
        let a = try ZeroMQSocket(context, type: .pair)
        let b = try ZeroMQSocket(context, type: .pair)
        try b.connect(try a.bind(scratch.endpoint(.inproc)))
        return (a, b)
    }

    @Test func reportsExactlyTheReadableSockets() throws {
        let scratch = try Scratch()
        let context = try ZeroMQContext()
        let (a1, b1) = try pair(context, scratch)
        let (a2, b2) = try pair(context, scratch)
        let poller = Poller([a1, a2])
        #expect(try poller.readable(timeoutMilliseconds: 0) == [])

        try b2.send([Frame("to a2")])
        #expect(try poller.readable(timeoutMilliseconds: patience) == [1])
        try b1.send([Frame("to a1")])
        #expect(eventually { (try? poller.readable(timeoutMilliseconds: 0)) == [0, 1] })

        _ = try a1.receive(dontWait: true)
        _ = try a2.receive(dontWait: true)
        #expect(try poller.readable(timeoutMilliseconds: 0) == [])
    }

    @Test func timesOutWhenNothingArrives() throws {
        let scratch = try Scratch()
        let context = try ZeroMQContext()
        let (a, _) = try pair(context, scratch)
        let start = ContinuousClock.now
        #expect(try Poller([a]).readable(timeoutMilliseconds: 50) == [])
        #expect(ContinuousClock.now - start >= .milliseconds(40))
    }

    @Test func wakesWhenAMessageArrivesFromAnotherThread() throws {
        let scratch = try Scratch()
        let context = try ZeroMQContext()
        let (a, b) = try pair(context, scratch)
        let sent = Counter()
        Thread {
            Thread.sleep(forTimeInterval: 0.02)
            if (try? b.send([Frame("late")])) != nil { sent.increment() }
        }.start()
        #expect(try Poller([a]).readable(timeoutMilliseconds: patience) == [0])
        #expect(eventually { sent.value == 1 })
    }
}
