import Foundation
import Jobs
import Logging
import Transport
import Wire

/// The client roster's state, behind its `Mutex` (DESIGN §7): the online clients (`PeerEndpoint`), the ones that
/// went offline (they stay known), and the round tasks waiting for an answer.
struct ClientRounds: PeerEndpoint {
    typealias Inbound = ClientToCoordinator
    typealias Outbound = CoordinatorToClient

    static var role: String { "client" }
    let transport: Transport
    let logger: Logger
    let onRefusal: @Sendable (_ peer: Peer, _ reason: String, _ message: String) -> Void
    var peers: PeerTable<ClientRoster.ClientInfo>
    /// Every client that went offline, by identity, as it was last seen.
    private var offline: [String: ClientRoster.ClientInfo] = [:]
    private var waiting: [UInt64: Waiting] = [:]
    private var cancelledJobs = Set<String>()

    init(
        settings: ClientRoster.Settings, transport: Transport, logger: Logger,
        onRefusal: @escaping @Sendable (_ peer: Peer, _ reason: String, _ message: String) -> Void
    ) {
        self.transport = transport
        self.logger = logger
        self.onRefusal = onRefusal
        peers = PeerTable(heartbeatMilliseconds: settings.heartbeatMilliseconds, liveness: settings.liveness)
    }

    /// Stops serving; a waiting round fails with `CoordinatorStopping`.
    mutating func stop() {
        peers.tasks.forEach { $0.cancel() }
        waiting.values.forEach { $0.round.fail(CoordinatorStopping()) }
    }

    var clientList: [ClientRoster.ClientInfo] {
        var known = offline
        for client in peers.members.values {
            known[client.details.identity] = client.details
            known[client.details.identity]?.lastSeen = client.lastSeen
        }
        return known.values.sorted { $0.identity < $1.identity }
    }

    func isCancelled(_ job: String) -> Bool { cancelledJobs.contains(job) }

    /// Sends each assignment to its client (an offline one misses the round at once).
    mutating func send(
        _ assignments: [ClientRoster.Assignment], of job: String, round: Gathering<String, ClientRoster.Outcome>,
        check: @escaping ClientRoster.UpdateCheck
    ) throws {
        if cancelledJobs.contains(job) { throw JobCancelled(job: job) }
        for assignment in assignments {
            guard let client = online(assignment.identity) else {
                round.deliver(.missed("offline"), for: assignment.identity)
                continue
            }
            let requestID = peers.nextRequestID()
            waiting[requestID] = Waiting(identity: assignment.identity, job: job, round: round, check: check)
            client.inFlight.insert(requestID)
            send(.roundTask(assignment.task), requestID: requestID, tensors: assignment.tensors, to: client.peer)
        }
    }

    /// Stops waiting for the round's answers that are still out.
    mutating func forget(_ round: Gathering<String, ClientRoster.Outcome>) {
        for (requestID, entry) in waiting where entry.round === round {
            waiting[requestID] = nil
            online(entry.identity)?.inFlight.remove(requestID)
        }
    }

    mutating func cancel(job: String) {
        cancelledJobs.insert(job)
        for entry in waiting.values where entry.job == job { entry.round.fail(JobCancelled(job: job)) }
    }

    private func online(_ identity: String) -> Member<ClientRoster.ClientInfo>? {
        peers.members.values.first { $0.details.identity == identity }
    }

    // MARK: messages

    /// Registers a client by its authenticated key (its name on an insecure endpoint), in place of an earlier
    /// connection with the same identity; its count of rounds done carries over.
    mutating func admit(_ peer: Peer, _ hello: Hello) -> ClientRoster.ClientInfo? {
        guard hello.role == .client else {
            refuse(peer, requestID: 0, code: .badRequest, "this side serves clients only", reason: "unexpected")
            return nil
        }
        let identity = peer.key ?? hello.name
        let earlier = online(identity)
        if let earlier, earlier.peer != peer { remove(earlier, because: "reconnected") }
        let client = ClientRoster.ClientInfo(
            identity: identity, key: peer.key, name: hello.name, classCounts: hello.classCounts,
            partition: hello.partition, online: true, lastSeen: Date(),
            tasksDone: earlier?.details.tasksDone ?? offline[identity]?.tasksDone ?? 0)
        offline[identity] = nil
        log("client \(hello.name) joined with \(client.samples) samples (\(hello.partition))")
        return client
    }

    mutating func receive(_ envelope: Envelope<ClientToCoordinator>, from client: Member<ClientRoster.ClientInfo>) {
        switch envelope.message {
        case .hello, .heartbeat, .goodbye:
            break  // the endpoint's
        case .roundUpdate(let update):
            accept(envelope, update: update, from: client)
        case .error(let error):
            guard let entry = waiting.removeValue(forKey: envelope.requestID) else {
                log("client \(client.name) reported: \(error.message)")
                return
            }
            client.inFlight.remove(envelope.requestID)
            entry.round.deliver(.refused(error.message), for: entry.identity)
        }
    }

    private mutating func accept(
        _ envelope: Envelope<ClientToCoordinator>, update: RoundUpdate, from client: Member<ClientRoster.ClientInfo>
    ) {
        guard let entry = waiting[envelope.requestID], entry.identity == client.details.identity else {
            refuse(
                client.peer, requestID: envelope.requestID, code: .unknownTask,
                "no round task \(update.job)/\(update.round) is waiting for \(client.name)", reason: "unknown task")
            return
        }
        waiting[envelope.requestID] = nil
        client.inFlight.remove(envelope.requestID)
        if let problem = entry.check(update, envelope.tensors) {
            refuse(client.peer, requestID: envelope.requestID, code: .badShape, problem, reason: "bad update")
            entry.round.deliver(.refused("sent a bad update: \(problem)"), for: entry.identity)
            return
        }
        client.details.tasksDone += 1
        entry.round.deliver(.update(update, tensors: envelope.tensors), for: entry.identity)
    }

    /// A client that left, fell silent or reconnected misses what it was doing; it stays known, offline.
    mutating func departed(_ client: Member<ClientRoster.ClientInfo>, because reason: String) {
        for requestID in client.inFlight {
            waiting.removeValue(forKey: requestID)?.round.deliver(.missed(reason), for: client.details.identity)
        }
        var info = client.details
        info.online = false
        info.lastSeen = client.lastSeen
        if online(info.identity) == nil { offline[info.identity] = info }
    }

    mutating func ticked() {}
}

/// A round task sent to a client that the roster waits to hear about.
private struct Waiting {
    let identity: String
    let job: String
    let round: Gathering<String, ClientRoster.Outcome>
    let check: ClientRoster.UpdateCheck
}
