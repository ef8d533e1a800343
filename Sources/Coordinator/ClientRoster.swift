import Foundation
import Jobs
import Logging
import Transport
import Wire

/// The coordinator's side of the federated client protocol (DESIGN §7): registers clients by identity (their
/// authenticated key, or their name on an insecure endpoint), keeps their liveness, sends each round's tasks
/// to the clients chosen for it and collects their answers until every one is in or the round's deadline
/// passes. A client that dies, is late or answers badly simply misses that round; it can rejoin at any time.
public final class ClientRoster: @unchecked Sendable {
    public struct Settings: Sendable {
        public var heartbeatMilliseconds = 500
        /// Heartbeat intervals a client may stay silent before it counts as offline.
        public var liveness = 6

        public init() {}
    }

    /// A client as the coordinator knows it (it stays known after it goes offline).
    public struct ClientInfo: Sendable, Equatable {
        public var identity: String
        public var key: String?
        public var name: String
        public var classCounts: [Int]
        public var partition: String
        public var online: Bool
        public var lastSeen: Date
        public var tasksDone: Int
        public var samples: Int { classCounts.reduce(0, +) }
    }

    /// One client's work in a round.
    public struct Assignment: Sendable {
        public var identity: String
        public var task: RoundTask
        public var tensors: [NamedTensor]

        public init(identity: String, task: RoundTask, tensors: [NamedTensor]) {
            self.identity = identity
            self.task = task
            self.tensors = tensors
        }
    }

    /// Why an update (with its tensors) cannot be used, or nil.
    public typealias UpdateCheck = @Sendable (RoundUpdate, [NamedTensor]) -> String?

    /// What became of an assignment.
    public enum Outcome: Sendable {
        case update(RoundUpdate, tensors: [NamedTensor])
        case missed(String)
    }

    public let settings: Settings
    static var role: String { "client" }
    let transport: Transport
    let lock = NSLock()
    var peers: PeerTable<ClientInfo>
    let logger: Logger
    let onRefusal: @Sendable (_ peer: Peer, _ reason: String, _ message: String) -> Void
    /// Every client that went offline, by identity, as it was last seen.
    private var offline: [String: ClientInfo] = [:]
    private var waiting: [UInt64: Waiting] = [:]
    private var cancelledJobs = Set<String>()
    private let changed = NSCondition()

    public init(
        transport: Transport, settings: Settings = Settings(),
        logger: Logger = Logger(label: "lethe.clients", factory: SwiftLogNoOpLogHandler.init),
        onRefusal: @escaping @Sendable (_ peer: Peer, _ reason: String, _ message: String) -> Void = { _, _, _ in }
    ) {
        self.logger = logger
        self.transport = transport
        self.settings = settings
        self.onRefusal = onRefusal
        peers = PeerTable(heartbeatMilliseconds: settings.heartbeatMilliseconds, liveness: settings.liveness)
    }

    public func start() { startServing() }

    public func stop() { stopServing { waiting.values.forEach { $0.round.fail(CoordinatorStopping()) } } }

    /// Every client ever seen, by identity.
    public var clientList: [ClientInfo] {
        lock.withLock {
            var known = offline
            for client in peers.members.values {
                known[client.details.identity] = client.details
                known[client.details.identity]?.lastSeen = client.lastSeen
            }
            return known.values.sorted { $0.identity < $1.identity }
        }
    }

    /// The identity of the client whose key, identity or name is `reference`.
    public func identity(of reference: String) -> String? {
        let known = clientList
        return known.first { $0.identity == reference || $0.key == reference }?.identity
            ?? known.first { $0.name == reference }?.identity
    }

    /// Messages refused so far, by reason.
    public var refusalCounts: [String: Int] { lock.withLock { peers.refusals } }

    /// Blocks until at least `count` clients are online (true) or `deadline` passes (false); throws when `job` is
    /// cancelled.
    @discardableResult
    public func waitForClients(_ count: Int, job: String, until deadline: Date = .distantFuture) throws -> Bool {
        changed.lock()
        defer { changed.unlock() }
        while true {
            let (online, cancelled) = lock.withLock { (peers.members.count, cancelledJobs.contains(job)) }
            if cancelled { throw JobCancelled(job: job) }
            if online >= count { return true }
            if Date() >= deadline { return false }
            _ = changed.wait(until: min(deadline, Date().addingTimeInterval(0.25)))
        }
    }

    /// Sends every assignment to its client and waits until each has answered, failed or `deadline` has passed.
    /// `check` refuses an update the job cannot use (wrong tensors); such a client misses the round.
    public func run(
        _ assignments: [Assignment], deadline: Date, check: @escaping UpdateCheck
    ) throws -> [String: Outcome] {
        guard let job = assignments.first?.task.job else { return [:] }
        let round = Gathering<String, Outcome>(expecting: assignments.map(\.identity))
        try lock.withLock {
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
        defer {
            lock.withLock {
                for (requestID, entry) in waiting where entry.round === round {
                    waiting[requestID] = nil
                    online(entry.identity)?.inFlight.remove(requestID)
                }
            }
        }
        var outcomes = try round.wait(until: deadline)
        for assignment in assignments where outcomes[assignment.identity] == nil {
            outcomes[assignment.identity] = .missed("no answer before the round's deadline")
        }
        return outcomes
    }

    /// Fails the job's waiting round and every later one.
    public func cancel(job: String) {
        lock.withLock {
            cancelledJobs.insert(job)
            for entry in waiting.values where entry.job == job { entry.round.fail(JobCancelled(job: job)) }
        }
    }

    private func online(_ identity: String) -> Member<ClientInfo>? {
        peers.members.values.first { $0.details.identity == identity }
    }

    // MARK: messages

    /// Registers a client by its authenticated key (its name on an insecure endpoint), in place of an earlier
    /// connection with the same identity; its count of rounds done carries over.
    func admit(_ peer: Peer, _ hello: Hello) -> ClientInfo? {
        guard hello.role == .client else {
            refuse(peer, requestID: 0, code: .badRequest, "this side serves clients only", reason: "unexpected")
            return nil
        }
        let identity = peer.key ?? hello.name
        let earlier = online(identity)
        if let earlier, earlier.peer != peer { remove(earlier, because: "reconnected") }
        let client = ClientInfo(
            identity: identity, key: peer.key, name: hello.name, classCounts: hello.classCounts,
            partition: hello.partition, online: true, lastSeen: Date(),
            tasksDone: earlier?.details.tasksDone ?? offline[identity]?.tasksDone ?? 0)
        offline[identity] = nil
        log("client \(hello.name) joined with \(client.samples) samples (\(hello.partition))")
        changed.broadcast()
        return client
    }

    func receive(_ envelope: Envelope<ClientToCoordinator>, from client: Member<ClientInfo>) {
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
            entry.round.deliver(.missed("\(client.name): \(error.message)"), for: entry.identity)
        }
    }

    private func accept(_ envelope: Envelope<ClientToCoordinator>, update: RoundUpdate, from client: Member<ClientInfo>)
    {
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
            entry.round.deliver(.missed("\(client.name) sent a bad update: \(problem)"), for: entry.identity)
            return
        }
        client.details.tasksDone += 1
        entry.round.deliver(.update(update, tensors: envelope.tensors), for: entry.identity)
    }

    /// A client that left, fell silent or reconnected misses what it was doing; it stays known, offline.
    func departed(_ client: Member<ClientInfo>, because reason: String) {
        for requestID in client.inFlight {
            waiting.removeValue(forKey: requestID)?.round.deliver(.missed(reason), for: client.details.identity)
        }
        var info = client.details
        info.online = false
        info.lastSeen = client.lastSeen
        if online(info.identity) == nil { offline[info.identity] = info }
    }

    func ticked() {}
}

extension ClientRoster: PeerEndpoint {
    typealias Inbound = ClientToCoordinator
    typealias Outbound = CoordinatorToClient
}

/// A round task sent to a client that the roster waits to hear about.
private struct Waiting {
    let identity: String
    let job: String
    let round: Gathering<String, ClientRoster.Outcome>
    let check: ClientRoster.UpdateCheck
}
