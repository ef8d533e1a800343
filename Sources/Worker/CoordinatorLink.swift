import Foundation
import Jobs
import Logging
import ServiceLifecycle
import Synchronization
import Transport
import Wire

/// How a worker or a federated client keeps in touch with the coordinator: it heartbeats at the pace the welcome
/// set and says hello again once the coordinator has been silent for its liveness window (it restarted or lost
/// us). It lives in its owner's state, behind the owner's `Mutex`; `Outbound` is what the owner sends (a worker's
/// or a client's messages).
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

/// What a node keeps behind its `Mutex`: at least its link to the coordinator.
protocol CoordinatorLinkedState {
    associatedtype Outbound: PeerToCoordinator
    var link: CoordinatorLink<Outbound> { get set }
}

/// A worker or client: its link and its own state sit in one `Mutex`, and `receive` gets each decoded message
/// (after a welcome has set the link's heartbeat; except the coordinator's `notRegistered`, answered with hello).
protocol CoordinatorLinked: AnyObject, Sendable {
    /// What the coordinator sends this side, and what this side keeps (with what it sends).
    associatedtype Inbound: CoordinatorToPeer
    associatedtype State: CoordinatorLinkedState
    typealias Outbound = State.Outbound
    var transport: Transport { get }
    /// The node's logger (its name as metadata).
    var logger: Logger { get }
    var state: Mutex<State> { get }
    /// Handles one message from the coordinator, with the state locked.
    func receive(_ envelope: Envelope<Inbound>, _ state: inout State)
}

extension CoordinatorLinked {
    /// Runs `body` on the node's state with its lock held (not reentrant: `body` must not call it again).
    func withState<Result: Sendable>(_ body: (inout State) -> Result) -> Result { state.withLock { body(&$0) } }

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
        withState { $0.link.sayHello() }
        let heartbeat = Task { [weak self] in
            while !Task.isCancelled, let milliseconds = self?.withState({ $0.link.heartbeatMilliseconds }) {
                try? await Task.sleep(for: .milliseconds(milliseconds))
                self?.tick()
            }
        }
        defer { heartbeat.cancel() }
        for await received in transport.incoming { handle(received) }
    }

    func handle(_ received: Received) {
        guard let envelope: Envelope<Inbound> = received.envelope(refusing: { refused($0) }) else { return }
        withState { state in
            state.link.heard()
            if envelope.message.protocolError?.code == .notRegistered {
                state.link.sayHello()  // the coordinator dropped us or restarted
                return
            }
            if let welcome = envelope.message.welcome { state.link.welcomed(welcome) }
            receive(envelope, &state)
        }
    }

    /// Logs what the decoder refused: another side's message is ignored (but the coordinator was heard).
    private func refused(_ error: WireError) {
        guard case .unexpected(let kind, _, _) = error else {
            return log("refused a message from the coordinator: \(error)", .warning)
        }
        withState { $0.link.heard() }
        log("ignored an unexpected \(kind) from the coordinator", .warning)
    }

    private func tick() {
        withState { state in
            if let change = state.link.connectionChange() { log(change) }
            if state.link.tick() { log("the coordinator is silent; saying hello again") }
        }
    }
}
