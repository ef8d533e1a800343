import Data
import Federated
import Foundation
import Jobs
import NN
import Tensor
import Transport
import Unlearning
import Wire

/// FedAvg rounds with the roster's clients (DESIGN §7): each round sends the global weights to the chosen
/// clients, waits for their updates until the deadline, averages those that came (weighted by samples, in
/// identity order) once a quorum has answered, and adds every participant's |θ_client − θ_reference| to its
/// contribution ledger. A round without quorum runs again; a client that misses one can rejoin the next. Clients
/// that refuse (an error, or an update that does not fit) are asked again too, but a round that falls below quorum
/// through refusals `refusalLimit` times in a row fails the job with their reasons instead of asking forever.
public struct FederatedRounds: Sendable {
    /// Consecutive attempts of one round that refusals may keep below quorum before the job fails.
    public static let refusalLimit = 3

    public var job: String
    public var architecture: String
    public var seed: UInt64
    public var settings: FederatedSettings
    public var test: Dataset
    public var roster: ClientRoster
    public var phase = "rounds"
    public var log: @Sendable (String) -> Void = { _ in }
    public var progress: @Sendable (PhaseStatus) -> Void = { _ in }

    public init(
        job: String, architecture: String, seed: UInt64, settings: FederatedSettings, test: Dataset,
        roster: ClientRoster
    ) {
        self.job = job
        self.architecture = architecture
        self.seed = seed
        self.settings = settings
        self.test = test
        self.roster = roster
    }

    /// Runs rounds until `state.round == rounds`, calling `persist` after each.
    public func run(_ state: inout FederationState, rounds: Int, persist: (FederationState) -> Void) throws {
        let parameterNames = Set(try ModelSpec.build(architecture, seed: 0).namedParameters.map(\.name))
        try waitForClients(resuming: state.round > 0, at: state.round)
        var refusedAttempts = 0
        while state.round < rounds {
            let started = Date()
            let round = state.round
            let selected = choose(round: round)
            guard !selected.isEmpty else {
                try roster.waitForClients(1, job: job)
                Thread.sleep(forTimeInterval: 0.2)
                continue
            }
            let shapes = state.global.mapValues(\.shape)
            let outcomes = try roster.run(
                assignments(round: round, for: selected, state: state),
                deadline: Date().addingTimeInterval(settings.deadlineSeconds),
                check: { Self.problem(with: $0, tensors: $1, shapes: shapes) })
            let (updates, missed, refused) = sorted(outcomes, of: selected)
            for (identity, reason) in missed.sorted(by: { $0.key < $1.key }) {
                log("\(job) round \(round + 1): \(name(of: identity)) missed it (\(reason))")
            }
            guard updates.count >= settings.quorumCount(of: selected.count) else {
                refusedAttempts = refused.isEmpty ? 0 : refusedAttempts + 1
                if refusedAttempts >= Self.refusalLimit {
                    throw RoundRefused(
                        round: round + 1, attempts: refusedAttempts,
                        reasons: refused.sorted().map { "\(name(of: $0)): \(missed[$0] ?? "")" })
                }
                log(
                    "\(job) round \(round + 1): \(updates.count) of \(selected.count) clients answered, below quorum; again"
                )
                continue
            }
            refusedAttempts = 0
            try record(updates, of: selected, in: &state, parameterNames: parameterNames)
            state.global = try FedAvg.aggregate(updates.map { (samples: $0.update.samples, weights: $0.weights) })
            let accuracy = try Self.testAccuracy(of: state, architecture: architecture, on: test)
            let meanLoss = updates.reduce(0.0) { $0 + $1.update.meanLoss } / Double(updates.count)
            state.history.append(
                FederationState.RoundRecord(
                    round: round, participants: updates.map(\.identity), missed: missed, meanClientLoss: meanLoss,
                    testAccuracy: accuracy, seconds: Date().timeIntervalSince(started)))
            state.round += 1
            persist(state)
            progress(PhaseStatus(name: phase, completed: state.round, total: rounds, lastLoss: meanLoss))
            log(
                "\(job) round \(round + 1)/\(rounds): \(updates.count) client(s), loss \(String(format: "%.4f", meanLoss)), test accuracy \(String(format: "%.2f%%", 100 * accuracy))"
            )
        }
    }

    /// A client's answer that counts towards a round.
    private typealias Update = (identity: String, update: RoundUpdate, weights: [String: Tensor])

    /// Waits for the federation's clients. A resumed job (after a restart, the clients say hello again one by one)
    /// carries on with those back within a round's deadline.
    private func waitForClients(resuming: Bool, at round: Int) throws {
        guard resuming else {
            try roster.waitForClients(settings.clients, job: job)
            return
        }
        if try !roster.waitForClients(
            settings.clients, job: job, until: Date().addingTimeInterval(settings.deadlineSeconds))
        {
            log("\(job) resumes round \(round + 1) with the clients back within its deadline")
        }
    }

    /// Each selected client trains from the global weights with its own seed.
    private func assignments(
        round: Int, for selected: [ClientRoster.ClientInfo], state: FederationState
    ) -> [ClientRoster.Assignment] {
        let weights = state.names.map { NamedTensor($0, state.global[$0]!) }
        return selected.map { client in
            ClientRoster.Assignment(
                identity: client.identity,
                task: RoundTask(
                    job: job, round: round, kind: .train, architecture: architecture, epochs: settings.localEpochs,
                    batchSize: settings.batchSize, learningRate: settings.learningRate,
                    momentum: settings.momentum, weightDecay: settings.weightDecay,
                    seed: Self.clientSeed(seed, round: round, identity: client.identity)),
                tensors: weights)
        }
    }

    /// The updates that count, in the selection's order, and why the other clients missed the round.
    private func sorted(
        _ outcomes: [String: ClientRoster.Outcome], of selected: [ClientRoster.ClientInfo]
    ) -> (updates: [Update], missed: [String: String], refused: Set<String>) {
        var updates: [Update] = []
        var missed: [String: String] = [:]
        var refused: Set<String> = []
        for client in selected {
            switch outcomes[client.identity] {
            case .update(let update, _)? where update.samples != client.samples:
                // FedAvg weights by samples: a client may not claim more (or fewer) than it registered with.
                missed[client.identity] = "claimed \(update.samples) samples, registered \(client.samples)"
                refused.insert(client.identity)
            case .update(let update, let tensors)?:
                updates.append(
                    (client.identity, update, Dictionary(uniqueKeysWithValues: tensors.map { ($0.name, $0.tensor) })))
            case .missed(let reason)?: missed[client.identity] = reason
            case .refused(let reason)?:
                missed[client.identity] = reason
                refused.insert(client.identity)
            case nil: missed[client.identity] = "no answer"
            }
        }
        return (updates, missed, refused)
    }

    /// Adds each update to its client's contribution ledger (ConDa) and records the client's participation.
    private func record(
        _ updates: [Update], of selected: [ClientRoster.ClientInfo], in state: inout FederationState,
        parameterNames: Set<String>
    ) throws {
        let reference = settings.reference == .initial ? state.initial : state.global
        let referenceParameters = reference.filter { parameterNames.contains($0.key) }
        for (identity, update, clientWeights) in updates {
            var ledger = state.ledgers[identity] ?? ContributionLedger()
            try ledger.accumulate(client: clientWeights, reference: referenceParameters)
            state.ledgers[identity] = ledger
            state.lastModels[identity] = clientWeights
            let info = selected.first { $0.identity == identity }!
            var member =
                state.members[identity]
                ?? FederationState.Member(
                    identity: identity, name: info.name, samples: update.samples, classCounts: info.classCounts,
                    partition: info.partition, rounds: [])
            member.samples = update.samples
            member.rounds.append(state.round)
            state.members[identity] = member
        }
    }

    private func choose(round: Int) -> [ClientRoster.ClientInfo] {
        let eligible = roster.clientList.filter { client in
            client.online
                && !settings.excluded.contains { $0 == client.identity || $0 == client.key || $0 == client.name }
        }
        guard settings.fraction < 1, eligible.count > 1 else { return eligible }
        let count = max(1, Int((settings.fraction * Double(eligible.count)).rounded(.up)))
        var generator = SeededGenerator(seed: seed, stream: "round-\(round)-selection")
        return generator.permutation(eligible.count).prefix(count).sorted().map { eligible[$0] }
    }

    private func name(of identity: String) -> String {
        roster.clientList.first { $0.identity == identity }?.name ?? identity
    }

    /// The seed of a client's local training in a round: the same for the same job seed, round and client.
    static func clientSeed(_ seed: UInt64, round: Int, identity: String) -> UInt64 {
        var generator = SeededGenerator(seed: seed, stream: "round-\(round)-client-\(identity)")
        return generator.next()
    }

    /// Why an update's weights cannot be averaged, or nil.
    static func problem(with update: RoundUpdate, tensors: [NamedTensor], shapes: [String: [Int]]) -> String? {
        guard update.samples > 0 else { return "an update must report its samples" }
        let sent = Dictionary(tensors.map { ($0.name, $0.tensor) }, uniquingKeysWith: { first, _ in first })
        for (name, shape) in shapes.sorted(by: { $0.key < $1.key }) {
            guard let tensor = sent[name] else { return "the update lacks '\(name)'" }
            guard tensor.shape == shape else { return "'\(name)' has shape \(tensor.shape), expected \(shape)" }
            guard tensor.isFinite else { return "'\(name)' is not finite" }
        }
        if let extra = sent.keys.sorted().first(where: { shapes[$0] == nil }) { return "unknown parameter '\(extra)'" }
        return nil
    }

    static func model(_ weights: [(name: String, tensor: Tensor)], architecture: String) throws -> Model {
        let model = try ModelSpec.build(architecture, seed: 0)
        try model.load(stateDict: weights)
        return model
    }

    static func testAccuracy(of state: FederationState, architecture: String, on test: Dataset) throws -> Double {
        Evaluator.evaluate(try model(state.globalStateDict, architecture: architecture), on: test).accuracy
    }
}

/// A round that the clients' refusals kept below quorum `FederatedRounds.refusalLimit` times in a row: the job
/// fails with what they said, since asking again would most likely get the same answers.
public struct RoundRefused: Error, CustomStringConvertible {
    public let round: Int
    public let attempts: Int
    /// "client: what it said", one per refusing client.
    public let reasons: [String]

    public var description: String {
        "round \(round) fell below quorum \(attempts) times in a row because clients refused it: "
            + reasons.joined(separator: "; ")
    }
}
