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
    private let transport: Transport
    private let lock = NSLock()
    private var clients: [String: Client] = [:]
    private var identities: [Peer: String] = [:]
    private var waiting: [UInt64: (identity: String, round: RoundGroup, check: UpdateCheck)] = [:]
    private var nextRequestID: UInt64 = 1
    private var refusals: [String: Int] = [:]
    private lazy var stallGuard = StallGuard(
        heartbeatMilliseconds: settings.heartbeatMilliseconds, liveness: settings.liveness)
    private var cancelledJobs = Set<String>()
    private var tasks: [Task<Void, Never>] = []
    private let changed = NSCondition()
    private let logger: Logger
    /// Called (under the roster's lock) with each refused message's peer, reason and what was wrong (for the audit log).
    public var onRefusal: @Sendable (_ peer: Peer, _ reason: String, _ message: String) -> Void = { _, _, _ in }

    public init(
        transport: Transport, settings: Settings = Settings(),
        logger: Logger = Logger(label: "lethe.clients", factory: SwiftLogNoOpLogHandler.init)
    ) {
        self.logger = logger
        self.transport = transport
        self.settings = settings
    }

    private func log(_ message: String, _ level: Logger.Level = .info) { logger.log(level: level, "\(message)") }

    public func start() {
        let incoming = transport.incoming
        tasks.append(Task { [weak self] in for await received in incoming { self?.handle(received) } })
        let interval = settings.heartbeatMilliseconds
        tasks.append(
            Task { [weak self] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(interval))
                    self?.tick()
                }
            })
    }

    public func stop() {
        tasks.forEach { $0.cancel() }
        lock.withLock { waiting.values.forEach { $0.round.cancel(.coordinatorStopping) } }
    }

    /// Every client ever seen, by identity.
    public var clientList: [ClientInfo] {
        lock.withLock { clients.values.map(\.info).sorted { $0.identity < $1.identity } }
    }

    /// The identity of the client whose key, identity or name is `reference`.
    public func identity(of reference: String) -> String? {
        lock.withLock {
            clients.values.first { $0.info.identity == reference || $0.info.key == reference }?.info.identity
                ?? clients.values.first { $0.info.name == reference }?.info.identity
        }
    }

    /// Messages refused so far, by reason.
    public var refusalCounts: [String: Int] { lock.withLock { refusals } }

    /// Blocks until at least `count` clients are online (true) or `deadline` passes (false); throws when `job` is
    /// cancelled.
    @discardableResult
    public func waitForClients(_ count: Int, job: String, until deadline: Date = .distantFuture) throws -> Bool {
        changed.lock()
        defer { changed.unlock() }
        while true {
            let (online, cancelled) = lock.withLock {
                (clients.values.filter(\.info.online).count, cancelledJobs.contains(job))
            }
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
        let round = RoundGroup(job: job, identities: assignments.map(\.identity))
        try lock.withLock {
            if cancelledJobs.contains(job) { throw JobCancelled(job: job) }
            for assignment in assignments {
                guard let client = clients[assignment.identity], client.info.online else {
                    round.resolve(assignment.identity, .missed("offline"))
                    continue
                }
                let requestID = nextRequestID
                nextRequestID += 1
                waiting[requestID] = (assignment.identity, round, check)
                client.inFlight.insert(requestID)
                send(
                    Envelope(.roundTask(assignment.task), requestID: requestID, tensors: assignment.tensors),
                    to: client.peer)
            }
        }
        let outcomes = round.wait(until: deadline)
        lock.withLock {
            for (requestID, entry) in waiting where entry.round === round {
                waiting[requestID] = nil
                clients[entry.identity]?.inFlight.remove(requestID)
            }
        }
        switch round.cancellation {
        case nil: break
        case .jobCancelled: throw JobCancelled(job: job)
        case .coordinatorStopping: throw CoordinatorStopping()
        }
        return outcomes
    }

    /// Fails the job's waiting round and every later one.
    public func cancel(job: String) {
        lock.withLock {
            cancelledJobs.insert(job)
            for entry in waiting.values where entry.round.job == job { entry.round.cancel(.jobCancelled) }
        }
    }

    // MARK: messages

    func handle(_ received: Received) {
        lock.withLock {
            guard
                let envelope = received.envelope(as: ClientToCoordinator.self, refusing: { refuse(received.peer, $0) })
            else { return }
            if case .hello(let hello) = envelope.message {
                welcome(received.peer, hello)
                return
            }
            guard let client = registered(received.peer, requestID: envelope.requestID) else { return }
            switch envelope.message {
            case .hello:
                break  // welcomed above
            case .heartbeat:
                break
            case .goodbye(let reason):
                log("client \(client.info.name) left: \(reason)")
                setOffline(client, because: "left: \(reason)")
            case .roundUpdate(let update):
                accept(envelope, update: update, from: client)
            case .error(let error):
                guard let entry = waiting.removeValue(forKey: envelope.requestID) else {
                    log("client \(client.info.name) reported: \(error.message)")
                    return
                }
                client.inFlight.remove(envelope.requestID)
                entry.round.resolve(entry.identity, .missed("\(client.info.name): \(error.message)"))
            }
        }
    }

    /// The peer's online client, just heard from; nil after refusing the message of a peer that has not said hello.
    private func registered(_ peer: Peer, requestID: UInt64) -> Client? {
        guard let identity = identities[peer], let client = clients[identity], client.info.online else {
            refuse(
                peer, requestID: requestID, code: .notRegistered, "unknown client: send hello first",
                reason: "unregistered")
            return nil
        }
        client.info.lastSeen = Date()
        return client
    }

    /// Refuses a message the decoder refused; another side's message only once its peer has said hello.
    private func refuse(_ peer: Peer, _ error: WireError) {
        let (requestID, refusal, reason) = error.refusal
        if case .unexpected = error, registered(peer, requestID: requestID) == nil { return }
        refuse(peer, requestID: requestID, code: refusal.code, refusal.message, reason: reason)
    }

    private func welcome(_ peer: Peer, _ hello: Hello) {
        guard hello.role == .client else {
            refuse(peer, requestID: 0, code: .badRequest, "this side serves clients only", reason: "unexpected")
            return
        }
        let identity = peer.key ?? hello.name
        if let previous = clients[identity], previous.info.online, previous.peer != peer {
            setOffline(previous, because: "reconnected")
        }
        let client = Client(
            peer: peer,
            info: ClientInfo(
                identity: identity, key: peer.key, name: hello.name, classCounts: hello.classCounts,
                partition: hello.partition, online: true, lastSeen: Date(),
                tasksDone: clients[identity]?.info.tasksDone ?? 0))
        clients[identity] = client
        identities[peer] = identity
        log("client \(hello.name) joined with \(client.info.samples) samples (\(hello.partition))")
        send(
            Envelope(
                .welcome(
                    Welcome(
                        coordinatorKernelIdentity: "",
                        heartbeatIntervalMilliseconds: settings.heartbeatMilliseconds, liveness: settings.liveness))),
            to: peer)
        changed.broadcast()
    }

    private func accept(_ envelope: Envelope<ClientToCoordinator>, update: RoundUpdate, from client: Client) {
        guard let entry = waiting[envelope.requestID], entry.identity == client.info.identity else {
            refuse(
                client.peer, requestID: envelope.requestID, code: .unknownTask,
                "no round task \(update.job)/\(update.round) is waiting for \(client.info.name)", reason: "unknown task"
            )
            return
        }
        waiting[envelope.requestID] = nil
        client.inFlight.remove(envelope.requestID)
        if let problem = entry.check(update, envelope.tensors) {
            refuse(client.peer, requestID: envelope.requestID, code: .badShape, problem, reason: "bad update")
            entry.round.resolve(entry.identity, .missed("\(client.info.name) sent a bad update: \(problem)"))
            return
        }
        client.info.tasksDone += 1
        entry.round.resolve(entry.identity, .update(update, tensors: envelope.tensors))
    }

    func tick() {
        lock.withLock {
            let now = Date()
            if stallGuard.stalled(now: now) {
                for client in clients.values { client.info.lastSeen = max(client.info.lastSeen, now) }
            }
            let silence = now.addingTimeInterval(-Double(settings.heartbeatMilliseconds * settings.liveness) / 1000)
            for client in clients.values where client.info.online {
                if client.info.lastSeen < silence {
                    log("client \(client.info.name) is silent; it misses what it was doing")
                    setOffline(client, because: "went silent")
                } else {
                    send(Envelope(.heartbeat), to: client.peer)
                }
            }
        }
    }

    private func setOffline(_ client: Client, because reason: String) {
        client.info.online = false
        identities[client.peer] = nil
        for requestID in client.inFlight {
            waiting.removeValue(forKey: requestID)?.round.resolve(client.info.identity, .missed(reason))
        }
        client.inFlight.removeAll()
    }

    private func refuse(_ peer: Peer, requestID: UInt64, code: ProtocolError.Code, _ message: String, reason: String) {
        refusals[reason, default: 0] += 1
        log("refused a message from \(peer) (\(reason)): \(message)", .warning)
        onRefusal(peer, reason, message)
        send(Envelope(.error(ProtocolError(code, message)), requestID: requestID), to: peer)
    }

    private func send(_ envelope: Envelope<CoordinatorToClient>, to peer: Peer) { transport.send(envelope, to: peer) }
}

/// A registered client (guarded by the roster's lock).
private final class Client {
    let peer: Peer
    var info: ClientRoster.ClientInfo
    var inFlight = Set<UInt64>()

    init(peer: Peer, info: ClientRoster.ClientInfo) {
        self.peer = peer
        self.info = info
    }
}

/// One round's assignments: the job's thread waits until all are resolved, the deadline passes or it is cancelled.
private final class RoundGroup: @unchecked Sendable {
    enum Cancellation { case jobCancelled, coordinatorStopping }

    let job: String
    private let condition = NSCondition()
    private var outcomes: [String: ClientRoster.Outcome] = [:]
    private let expected: Set<String>
    private(set) var cancellation: Cancellation?

    init(job: String, identities: [String]) {
        self.job = job
        expected = Set(identities)
    }

    func resolve(_ identity: String, _ outcome: ClientRoster.Outcome) {
        condition.withLock {
            guard expected.contains(identity), outcomes[identity] == nil else { return }
            outcomes[identity] = outcome
            condition.broadcast()
        }
    }

    func cancel(_ reason: Cancellation) {
        condition.withLock {
            cancellation = cancellation ?? reason
            condition.broadcast()
        }
    }

    /// Every expected identity's outcome; those still out at the deadline missed the round.
    func wait(until deadline: Date) -> [String: ClientRoster.Outcome] {
        condition.withLock {
            while outcomes.count < expected.count, cancellation == nil, condition.wait(until: deadline) {}
            for identity in expected where outcomes[identity] == nil {
                outcomes[identity] = .missed("no answer before the round's deadline")
            }
            return outcomes
        }
    }
}
