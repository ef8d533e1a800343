import Foundation
import Jobs
import Logging
import Synchronization
import Transport
import Wire

/// The coordinator's side of the federated client protocol (DESIGN §7): registers clients by identity (their
/// authenticated key, or their name on an insecure endpoint), keeps their liveness, sends each round's tasks
/// to the clients chosen for it and collects their answers until every one is in or the round's deadline
/// passes. A client that dies, is late or answers badly simply misses that round; it can rejoin at any time.
public final class ClientRoster: Sendable {
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
        /// No answer: offline, late, or gone during the round (it may well answer the next).
        case missed(String)
        /// The client answered, with an error or an update that does not fit: asked again, it most likely answers
        /// the same.
        case refused(String)
    }

    public let settings: Settings
    private let roster: Mutex<ClientRounds>

    public init(
        transport: Transport, settings: Settings = Settings(),
        logger: Logger = Logger(label: "lethe.clients", factory: SwiftLogNoOpLogHandler.init),
        onRefusal: @escaping @Sendable (_ peer: Peer, _ reason: String, _ message: String) -> Void = { _, _, _ in }
    ) {
        self.settings = settings
        roster = Mutex(ClientRounds(settings: settings, transport: transport, logger: logger, onRefusal: onRefusal))
    }

    public func start() {
        startServing(roster.withLock { $0.transport }, heartbeatMilliseconds: settings.heartbeatMilliseconds)
    }

    public func stop() { roster.withLock { $0.stop() } }

    /// Every client ever seen, by identity.
    public var clientList: [ClientInfo] { roster.withLock { $0.clientList } }

    /// The identity of the client whose key, identity or name is `reference`.
    public func identity(of reference: String) -> String? {
        let known = clientList
        return known.first { $0.identity == reference || $0.key == reference }?.identity
            ?? known.first { $0.name == reference }?.identity
    }

    /// Messages refused so far, by reason.
    public var refusalCounts: [String: Int] { roster.withLock { $0.peers.refusals } }

    /// Blocks until at least `count` clients are online (true) or `deadline` passes (false); throws when `job` is
    /// cancelled.
    @discardableResult
    public func waitForClients(_ count: Int, job: String, until deadline: Date = .distantFuture) throws -> Bool {
        while true {
            let (online, cancelled) = roster.withLock { ($0.peers.members.count, $0.isCancelled(job)) }
            if cancelled { throw JobCancelled(job: job) }
            if online >= count { return true }
            if Date() >= deadline { return false }
            Thread.sleep(forTimeInterval: min(0.05, max(deadline.timeIntervalSinceNow, 0)))
        }
    }

    /// Sends every assignment to its client and waits until each has answered, failed or `deadline` has passed.
    /// `check` refuses an update the job cannot use (wrong tensors); such a client misses the round.
    public func run(
        _ assignments: [Assignment], deadline: Date, check: @escaping UpdateCheck
    ) throws -> [String: Outcome] {
        guard let job = assignments.first?.task.job else { return [:] }
        let round = Gathering<String, Outcome>(expecting: assignments.map(\.identity))
        try roster.withLock { try $0.send(assignments, of: job, round: round, check: check) }
        defer { roster.withLock { $0.forget(round) } }
        var outcomes = try round.wait(until: deadline)
        for assignment in assignments where outcomes[assignment.identity] == nil {
            outcomes[assignment.identity] = .missed("no answer before the round's deadline")
        }
        return outcomes
    }

    /// Fails the job's waiting round and every later one.
    public func cancel(job: String) { roster.withLock { $0.cancel(job: job) } }
}

extension ClientRoster: PeerEndpointOwner {
    func withState(_ body: (inout ClientRounds) -> Void) { roster.withLock { body(&$0) } }
}
