import Foundation
import Logging
import Transport
import Wire

/// How the coordinator keeps workers or federated clients in touch (DESIGN §5, §7): the hello handshake, heartbeats
/// and liveness, goodbyes, request ids and refusals (counted, logged, audited and answered with a typed error). The
/// worker pool's and the client roster's state (each behind one `Mutex`) say only whom they admit, what their
/// peers' own messages mean and what a peer's departure costs. The mirror of `CoordinatorLinked` on the other side
/// of the connection.
protocol PeerEndpoint {
    /// What the peers send, and what the coordinator sends them.
    associatedtype Inbound: PeerToCoordinator
    associatedtype Outbound: CoordinatorToPeer
    /// What the endpoint keeps about each registered peer.
    associatedtype Details

    /// "worker" or "client", for logs and refusals.
    static var role: String { get }
    var transport: Transport { get }
    var peers: PeerTable<Details> { get set }
    var logger: Logger { get }
    /// Called with each refused message's peer, reason and what was wrong (for the audit log).
    var onRefusal: @Sendable (_ peer: Peer, _ reason: String, _ message: String) -> Void { get }

    /// What a peer that said hello is registered with, or nil after refusing it.
    mutating func admit(_ peer: Peer, _ hello: Hello) -> Details?
    /// Handles a registered peer's own message (not hello, heartbeat or goodbye).
    mutating func receive(_ envelope: Envelope<Inbound>, from member: Member<Details>)
    /// Settles what a peer that left, fell silent or said hello again still owed, once it is unregistered.
    mutating func departed(_ member: Member<Details>, because reason: String)
    /// Called after each liveness check.
    mutating func ticked()
}

/// A worker or client that said hello and has not left or fallen silent (inside its endpoint's state).
final class Member<Details> {
    let peer: Peer
    let name: String
    var details: Details
    var lastSeen = Date()
    /// Requests it was sent that await its answer.
    var inFlight = Set<UInt64>()

    init(peer: Peer, name: String, details: Details) {
        self.peer = peer
        self.name = name
        self.details = details
    }
}

/// An endpoint's registered peers and what it counts.
struct PeerTable<Details> {
    let heartbeatMilliseconds: Int
    /// Heartbeat intervals a peer may stay silent before it counts as gone.
    let liveness: Int
    /// Sent in every welcome (empty where kernels do not matter).
    let kernelIdentity: String
    var members: [Peer: Member<Details>] = [:]
    /// Messages refused so far, by reason.
    var refusals: [String: Int] = [:]
    var bytesSent = 0
    var bytesReceived = 0
    /// What serves the endpoint: its message handler and heartbeat timer (`startServing`).
    var tasks: [Task<Void, Never>] = []
    private var lastRequestID: UInt64 = 0
    private var stallGuard: StallGuard

    init(heartbeatMilliseconds: Int, liveness: Int, kernelIdentity: String = "") {
        self.heartbeatMilliseconds = heartbeatMilliseconds
        self.liveness = liveness
        self.kernelIdentity = kernelIdentity
        stallGuard = StallGuard(heartbeatMilliseconds: heartbeatMilliseconds, liveness: liveness)
    }

    mutating func nextRequestID() -> UInt64 {
        lastRequestID += 1
        return lastRequestID
    }

    /// The members that fell silent by `now` (after a stall of this process, nobody: everyone gets a fresh window).
    mutating func silent(now: Date) -> [Member<Details>] {
        if stallGuard.stalled(now: now) { members.values.forEach { $0.lastSeen = now } }
        let deadline = now.addingTimeInterval(-Double(heartbeatMilliseconds * liveness) / 1000)
        return members.values.filter { $0.lastSeen < deadline }.sorted { $0.name < $1.name }
    }
}

extension PeerEndpoint {
    func log(_ message: String, _ level: Logger.Level = .info) { logger.log(level: level, "\(message)") }

    mutating func handle(_ received: Received) {
        peers.bytesReceived += received.frames.reduce(0) { $0 + $1.count }
        var refusal: WireError?
        guard let envelope = received.envelope(as: Inbound.self, refusing: { refusal = $0 }) else {
            if let refusal { refuse(received.peer, refusal) }
            return
        }
        if case .hello(let hello) = envelope.message.contact { return welcome(received.peer, hello) }
        guard let member = registered(received.peer, requestID: envelope.requestID) else { return }
        switch envelope.message.contact {
        case .hello, .heartbeat:
            break
        case .goodbye(let reason):
            log("\(Self.role) \(member.name) left: \(reason)")
            remove(member, because: "left: \(reason)")
        case nil:
            receive(envelope, from: member)
        }
    }

    /// Drops the members that fell silent and sends the others a heartbeat.
    mutating func tick() {
        let silent = peers.silent(now: Date())
        for member in silent {
            log("\(Self.role) \(member.name) is silent (\(member.inFlight.count) request(s) unanswered)")
            remove(member, because: "went silent")
        }
        for member in peers.members.values { send(.heartbeat, to: member.peer) }
        ticked()
    }

    /// Unregisters a member and settles what it owed.
    mutating func remove(_ member: Member<Details>, because reason: String) {
        peers.members[member.peer] = nil
        departed(member, because: reason)
        member.inFlight.removeAll()
    }

    /// Sends `message` with `tensors`, the first of which may be given already encoded (`WireCodec.encode`).
    mutating func send(
        _ message: Outbound, requestID: UInt64 = 0, tensors: [NamedTensor] = [], encodedTensors: [FramePayload] = [],
        to peer: Peer
    ) {
        let frames = WireCodec.encode(
            Envelope(message, requestID: requestID, tensors: tensors), encodedTensors: encodedTensors)
        peers.bytesSent += frames.reduce(0) { $0 + $1.count }
        transport.send(frames, to: peer)
    }

    /// Counts, logs, audits and answers a refused message.
    mutating func refuse(_ peer: Peer, requestID: UInt64, code: ProtocolError.Code, _ message: String, reason: String) {
        peers.refusals[reason, default: 0] += 1
        log("refused a message from \(peer) (\(reason)): \(message)", .warning)
        onRefusal(peer, reason, message)
        send(.error(ProtocolError(code, message)), requestID: requestID, to: peer)
    }

    /// Refuses what the decoder refused; another side's message only once its peer has said hello (before that,
    /// the peer hears that it must).
    private mutating func refuse(_ peer: Peer, _ error: WireError) {
        let (requestID, refusal, reason) = error.refusal
        if case .unexpected = error, registered(peer, requestID: requestID) == nil { return }
        refuse(peer, requestID: requestID, code: refusal.code, refusal.message, reason: reason)
    }

    /// The peer's member, just heard from; nil after refusing the message of a peer that has not said hello.
    private mutating func registered(_ peer: Peer, requestID: UInt64) -> Member<Details>? {
        guard let member = peers.members[peer] else {
            refuse(
                peer, requestID: requestID, code: .notRegistered, "unknown \(Self.role): send hello first",
                reason: "unregistered")
            return nil
        }
        member.lastSeen = Date()
        return member
    }

    /// Registers a peer the endpoint admits (in place of what it was before) and welcomes it.
    private mutating func welcome(_ peer: Peer, _ hello: Hello) {
        guard let details = admit(peer, hello) else { return }
        if let previous = peers.members[peer] { remove(previous, because: "said hello again") }
        peers.members[peer] = Member(peer: peer, name: hello.name, details: details)
        send(
            .welcome(
                Welcome(
                    coordinatorKernelIdentity: peers.kernelIdentity,
                    heartbeatIntervalMilliseconds: peers.heartbeatMilliseconds, liveness: peers.liveness)),
            to: peer)
    }
}

/// The class that owns an endpoint's state behind a `Mutex` (the worker pool, the client roster).
protocol PeerEndpointOwner: AnyObject, Sendable {
    associatedtype State: PeerEndpoint
    /// Runs `body` on the state with the lock held.
    func withState(_ body: (inout State) -> Void)
}

extension PeerEndpointOwner {
    /// Handles the transport's messages and checks liveness every heartbeat interval until the state's tasks are
    /// cancelled.
    func startServing(_ transport: Transport, heartbeatMilliseconds: Int) {
        let incoming = transport.incoming
        let tasks = [
            Task { [weak self] in
                for await received in incoming { self?.withState { $0.handle(received) } }
            },
            Task { [weak self] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(heartbeatMilliseconds))
                    self?.withState { $0.tick() }
                }
            },
        ]
        withState { $0.peers.tasks += tasks }
    }
}

extension WireError {
    var code: ProtocolError.Code {
        switch self {
        case .wrongVersion: .wrongVersion
        case .unexpected(_, _, let refusal): refusal.code
        case .missingFrames, .malformedEnvelope, .badTensor, .invalidField: .badMessage
        }
    }

    /// How the worker endpoint (workers and clients alike) answers what its decoder refused: another side's message
    /// as unexpected, by its request id; anything else as malformed, by request id 0 (its own may not be readable).
    var refusal: (requestID: UInt64, error: ProtocolError, reason: String) {
        if case .unexpected(_, let requestID, let refusal) = self {
            (requestID, refusal, "unexpected")
        } else {
            (0, ProtocolError(code, "\(self)"), "malformed")
        }
    }
}
