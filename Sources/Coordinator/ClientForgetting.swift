import Federated
import Foundation
import Jobs
import Tensor
import Transport
import Wire

/// Forgets one client of a finished federated job (`lethe forget-client`): `conda` dampens the parameters the
/// client's contribution ledger dominates, on the coordinator alone with no client data; the baselines are
/// `retrain` (FedAvg from the same initial weights without the client), `neggrad` (gradient ascent by the
/// client itself) and `pga` (ascent projected into a ball around the other clients' mean, then one round).
/// Optional repair rounds continue FedAvg with the remaining clients.
public struct ClientForgetting: Sendable {
    /// What forgetting did, for the report.
    public struct Outcome: Sendable {
        public var forgotten: FederationState.Member
        public var weights: [(name: String, tensor: Tensor)]
        /// Wall time of the forgetting itself (and of the repair rounds, reported apart).
        public var seconds: Double
        public var repairSeconds: Double
        public var dampened: Int?
        public var dampenable: Int?
        public var rounds: [FederationState.RoundRecord]
    }

    public var settings: ForgettingSettings
    public var source: FederationState
    public var training: FederatedSettings
    public var rounds: FederatedRounds

    public init(
        settings: ForgettingSettings, source: FederationState, training: FederatedSettings, rounds: FederatedRounds
    ) {
        self.settings = settings
        self.source = source
        self.training = training
        self.rounds = rounds
    }

    /// The member `reference` names (identity, key or name), or an error listing the members.
    public static func member(_ reference: String, in state: FederationState) throws -> FederationState.Member {
        let members = state.members.values.sorted { $0.identity < $1.identity }
        guard
            let member = members.first(where: { $0.identity == reference })
                ?? members.first(where: { $0.name == reference })
        else {
            throw ProtocolError(
                .badRequest,
                "no client '\(reference)' took part; the clients were \(members.map(\.name).joined(separator: ", "))")
        }
        return member
    }

    /// Forgets `member`. Retrain and repair rounds are handed to `persist` after each round; `resume` (what was
    /// persisted before a coordinator restart) continues them instead of starting over.
    public func run(
        forgetting member: FederationState.Member, resume: FederationState? = nil,
        persist: (FederationState) -> Void = { _ in }
    ) throws -> Outcome {
        let others = source.members.keys.filter { $0 != member.identity }.sorted()
        guard !others.isEmpty else { throw ProtocolError(.badRequest, "\(member.name) is the only client") }
        var outcome = Outcome(
            forgotten: member, weights: source.globalStateDict, seconds: 0, repairSeconds: 0, rounds: [])
        let started = Date()
        var repair = settings.repairRounds
        switch settings.method {
        case "conda":
            guard let ledger = source.ledgers[member.identity] else {
                throw ProtocolError(.badRequest, "\(member.name) has no contribution ledger")
            }
            let parameters = ledger.sums.keys
            // Dampening scales toward zero (ConDa), or toward the initial weights: θ₀ + factor · (θ − θ₀).
            let anchor = settings.towardInitial ? source.initial : [:]
            var moved: [String: Tensor] = [:]
            for (name, weight) in source.global where parameters.contains(name) {
                moved[name] = anchor[name].map { weight - $0 } ?? weight
            }
            let dampening = try settings.conda.dampen(
                moved, forgotten: ledger, remaining: others.compactMap { source.ledgers[$0] })
            outcome.weights = source.names.map { name in
                guard let weight = dampening.weights[name] else { return (name: name, tensor: source.global[name]!) }
                return (name: name, tensor: anchor[name].map { weight + $0 } ?? weight)
            }
            outcome.dampened = dampening.dampened
            outcome.dampenable = dampening.total
        case "retrain":
            var state = FederationState(names: source.names, initial: source.initial)
            state.stage = .retrain
            if let resume, resume.stage == .retrain { state = resume }
            var retraining = rounds
            retraining.settings.excluded.append(member.identity)
            retraining.phase = "retrain rounds"
            try retraining.run(&state, rounds: training.rounds, persist: persist)
            outcome.weights = state.globalStateDict
            outcome.rounds = state.history
        case "neggrad", "pga":
            var reference: [String: Tensor] = [:]
            var radius: Float = 0
            if settings.method == "pga" {
                reference = try mean(of: others)
                radius = settings.radius ?? Float(distance(reference, source.initial) / 3)
                repair = max(repair, 1)
            }
            // After a restart during the repair rounds, the ascent's result is already in their state.
            if resume?.stage != .repair { outcome.weights = try ascend(member, reference: reference, radius: radius) }
        default:
            throw ProtocolError(.badRequest, "unknown method \(settings.method)")
        }
        outcome.seconds = Date().timeIntervalSince(started)
        if repair > 0 {
            let repairStarted = Date()
            var state = source
            state.global = Dictionary(uniqueKeysWithValues: outcome.weights.map { ($0.name, $0.tensor) })
            state.round = 0
            state.history = []
            state.stage = .repair
            if let resume, resume.stage == .repair { state = resume }
            var repairing = rounds
            repairing.settings.excluded.append(member.identity)
            repairing.phase = "repair rounds"
            try repairing.run(&state, rounds: repair, persist: persist)
            outcome.weights = state.globalStateDict
            outcome.rounds += state.history
            outcome.repairSeconds = Date().timeIntervalSince(repairStarted)
        }
        return outcome
    }

    /// The forgotten client's own gradient ascent (it must be online), projected when `radius` > 0.
    private func ascend(_ member: FederationState.Member, reference: [String: Tensor], radius: Float) throws -> [(
        name: String, tensor: Tensor
    )] {
        try rounds.roster.waitForClients(1, job: rounds.job)
        let tensors =
            source.names.map { NamedTensor($0, source.global[$0]!) }
            + reference.sorted { $0.key < $1.key }.map { NamedTensor("reference/\($0.key)", $0.value) }
        let shapes = source.global.mapValues(\.shape)
        let outcomes = try rounds.roster.run(
            [
                ClientRoster.Assignment(
                    identity: member.identity,
                    task: RoundTask(
                        job: rounds.job, round: 0, kind: .ascend, architecture: rounds.architecture,
                        epochs: settings.ascentEpochs, batchSize: training.batchSize,
                        learningRate: settings.ascentLearningRate, seed: rounds.seed, radius: radius),
                    tensors: tensors)
            ], deadline: Date().addingTimeInterval(training.deadlineSeconds),
            check: { FederatedRounds.problem(with: $0, tensors: $1, shapes: shapes) })
        guard case .update(_, let weights)? = outcomes[member.identity] else {
            var reason = "no answer"
            switch outcomes[member.identity] {
            case .missed(let why)?, .refused(let why)?: reason = why
            case .update?, nil: break
            }
            throw ProtocolError(
                .badRequest, "\(settings.method) needs \(member.name) online to ascend on its data (\(reason))")
        }
        let byName = Dictionary(uniqueKeysWithValues: weights.map { ($0.name, $0.tensor) })
        return source.names.map { (name: $0, tensor: byName[$0]!) }
    }

    /// The other clients' last local models averaged by their samples (PGA's reference point).
    private func mean(of identities: [String]) throws -> [String: Tensor] {
        let models = identities.compactMap { identity in
            source.lastModels[identity].map { (samples: source.members[identity]?.samples ?? 0, weights: $0) }
        }
        guard !models.isEmpty else { throw ProtocolError(.badRequest, "the other clients' models were not kept") }
        return try FedAvg.aggregate(models)
    }

    private func distance(_ a: [String: Tensor], _ b: [String: Tensor]) -> Double {
        a.keys.sorted().reduce(0.0) { $0 + (a[$1]! - b[$1]!).squaredNorm() }.squareRoot()
    }
}
