import Foundation
import Jobs
import Logging
import ServiceLifecycle
import Transport
import Wire

/// How a worker or a federated client keeps in touch with the coordinator: it heartbeats at the pace the welcome
/// set and says hello again once the coordinator has been silent for its liveness window (it restarted or lost
/// us). The owner guards it with its own lock; `Outbound` is what the owner sends (a worker's or a client's messages).
struct CoordinatorLink<Outbound: PeerToCoordinator> {
    let transport: Transport
    let hello: Hello
    private(set) var heartbeatMilliseconds = 500
    private var liveness = 6
    private var lastHeard = Date()
    private var lastHello = Date.distantPast
    /// The connection problem last logged, so that each is logged once, not at every retry.
    private var reportedProblem: ConnectionProblem?

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
        transport.send(Envelope(Outbound.hello(hello)), to: nil)
    }

    /// A line for the log when the transport's connection problem changed since the last call: the new problem
    /// (workers and clients have keys on the workers' allowlist), or that the connection works again.
    mutating func connectionChange() -> String? {
        let problem = transport.connectionProblem
        guard problem != reportedProblem else { return nil }
        defer { reportedProblem = problem }
        guard let problem else { return "the connection to the coordinator works now" }
        return problem.explanation(allowlist: .workers) + " (retrying)"
    }

    /// Sends a heartbeat, or hello when the coordinator has been silent too long; returns whether it said hello.
    mutating func tick() -> Bool {
        let limit = Double(heartbeatMilliseconds * liveness) / 1000
        if Date().timeIntervalSince(lastHeard) > limit, Date().timeIntervalSince(lastHello) > limit {
            sayHello()
            return true
        }
        transport.send(Envelope(Outbound.heartbeat), to: nil)
        return false
    }
}

/// A worker or client: one lock guards its link and its own state, and `receive` gets each decoded message
/// (except the coordinator's `notRegistered`, which it answers with hello).
protocol CoordinatorLinked: AnyObject, Sendable {
    /// What the coordinator sends this side, and what this side sends it.
    associatedtype Inbound: WireMessage
    associatedtype Outbound: PeerToCoordinator
    var transport: Transport { get }
    var lock: NSLock { get }
    /// Guarded by `lock`.
    var link: CoordinatorLink<Outbound> { get set }
    /// The node's logger (its name as metadata).
    var logger: Logger { get }
    /// Handles one message from the coordinator; called with `lock` held.
    func receive(_ envelope: Envelope<Inbound>)
}

extension CoordinatorLinked {
    func log(_ message: String, _ level: Logger.Level = .info) { logger.log(level: level, "\(message)") }

    /// Serves until the transport closes or a graceful shutdown (SIGTERM, SIGINT): then it says goodbye, so the
    /// coordinator hands what this node held to others at once, and closes.
    func serveUntilShutdown() async {
        await withGracefulShutdownHandler {
            await serve()
        } onGracefulShutdown: { [self] in
            leave("shutting down")
        }
    }

    /// Says goodbye and closes the connection (the goodbye gets a second to go out).
    func leave(_ reason: String) {
        log("leaving the coordinator: \(reason)")
        transport.send(Envelope(Outbound.goodbye(reason: reason)), to: nil)
        transport.close(lingering: .seconds(1))
    }

    /// Says hello, then handles every message while a timer ticks every heartbeat interval, until the transport
    /// closes or the task is cancelled.
    func serve() async {
        lock.withLock { link.sayHello() }
        let heartbeat = Task { [weak self] in
            while !Task.isCancelled, let milliseconds = self?.lock.withLock({ self?.link.heartbeatMilliseconds }) {
                try? await Task.sleep(for: .milliseconds(milliseconds))
                self?.tick()
            }
        }
        defer { heartbeat.cancel() }
        for await received in transport.incoming { handle(received) }
    }

    func handle(_ received: Received) {
        guard let envelope: Envelope<Inbound> = received.envelope(refusing: { refused($0) }) else { return }
        lock.withLock {
            link.heard()
            if envelope.message.protocolError?.code == .notRegistered {
                link.sayHello()  // the coordinator dropped us or restarted
            } else {
                receive(envelope)
            }
        }
    }

    /// Logs what the decoder refused: another side's message is ignored (but the coordinator was heard).
    private func refused(_ error: WireError) {
        guard case .unexpected(let kind, _, _) = error else {
            return log("refused a message from the coordinator: \(error)", .warning)
        }
        lock.withLock { link.heard() }
        log("ignored an unexpected \(kind) from the coordinator", .warning)
    }

    private func tick() {
        lock.withLock {
            if let change = link.connectionChange() { log(change) }
            if link.tick() { log("the coordinator is silent; saying hello again") }
        }
    }
}
