import Foundation
import Wire

/// How a worker or a federated client keeps in touch with the coordinator: it heartbeats at the pace the welcome
/// set and says hello again once the coordinator has been silent for its liveness window (it restarted or lost
/// us). The owner guards it with its own lock.
struct CoordinatorLink {
    let transport: Transport
    let hello: Hello
    private(set) var heartbeatMilliseconds = 500
    private var liveness = 6
    private var lastHeard = Date()
    private var lastHello = Date.distantPast

    init(transport: Transport, hello: Hello) {
        self.transport = transport
        self.hello = hello
    }

    mutating func heard() { lastHeard = Date() }

    mutating func welcomed(_ welcome: Welcome) {
        heartbeatMilliseconds = max(welcome.heartbeatIntervalMilliseconds, 10)
        liveness = max(welcome.liveness, 2)
    }

    mutating func sayHello() {
        lastHello = Date()
        transport.send(Envelope(.hello(hello)), to: nil)
    }

    /// Sends a heartbeat, or hello when the coordinator has been silent too long; returns whether it said hello.
    mutating func tick() -> Bool {
        let limit = Double(heartbeatMilliseconds * liveness) / 1000
        if Date().timeIntervalSince(lastHeard) > limit, Date().timeIntervalSince(lastHello) > limit {
            sayHello()
            return true
        }
        transport.send(Envelope(.heartbeat), to: nil)
        return false
    }

    /// Says hello, then hands every message to `handle` while a timer calls `tick` every heartbeat interval, until
    /// the transport closes or the task is cancelled.
    static func serve(
        _ transport: Transport, hello: () -> Void, interval: @escaping @Sendable () -> Int?,
        tick: @escaping @Sendable () -> Void, handle: (Received) -> Void
    ) async {
        hello()
        let heartbeat = Task {
            while !Task.isCancelled, let milliseconds = interval() {
                try? await Task.sleep(for: .milliseconds(milliseconds))
                tick()
            }
        }
        defer { heartbeat.cancel() }
        for await received in transport.incoming { handle(received) }
    }
}
