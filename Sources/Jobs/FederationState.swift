import Checkpoint
import Federated
import Foundation
import Tensor
import Unlearning

/// Everything a federated job keeps between rounds and leaves behind for forgetting a client: the initial and
/// current global weights, each client's contribution ledger and last local model, and the round history.
/// Stored as one safetensors blob (tensors by index, the rest as JSON metadata) at every round's end.
public struct FederationState: Sendable {
    /// What the coordinator knows of a client that took part.
    public struct Member: Sendable, Codable, Equatable {
        public var identity: String
        public var name: String
        public var samples: Int
        public var classCounts: [Int]
        public var partition: String
        /// Rounds the client's update was aggregated in.
        public var rounds: [Int]

        public init(identity: String, name: String, samples: Int, classCounts: [Int], partition: String, rounds: [Int])
        {
            self.identity = identity
            self.name = name
            self.samples = samples
            self.classCounts = classCounts
            self.partition = partition
            self.rounds = rounds
        }
    }

    /// One finished round.
    public struct RoundRecord: Sendable, Codable, Equatable {
        public var round: Int
        public var participants: [String]
        /// Identity → why it missed the round.
        public var missed: [String: String]
        public var meanClientLoss: Double
        public var testAccuracy: Double
        public var seconds: Double

        public init(
            round: Int, participants: [String], missed: [String: String], meanClientLoss: Double, testAccuracy: Double,
            seconds: Double
        ) {
            self.round = round
            self.participants = participants
            self.missed = missed
            self.meanClientLoss = meanClientLoss
            self.testAccuracy = testAccuracy
            self.seconds = seconds
        }
    }

    /// Parameter and buffer names in state-dict order.
    public var names: [String]
    public var initial: [String: Tensor]
    public var global: [String: Tensor]
    /// Rounds completed so far.
    public var round: Int
    public var members: [String: Member]
    public var ledgers: [String: ContributionLedger]
    /// Each client's weights after its last local training.
    public var lastModels: [String: [String: Tensor]]
    public var history: [RoundRecord]
    /// Which rounds these are: FedAvg training (`rounds`), or a forget-client job's `retrain` or `repair` rounds.
    public var stage = Stage.rounds

    public enum Stage: String, Sendable, Codable {
        case rounds, retrain, repair
    }

    public init(names: [String], initial: [String: Tensor]) {
        self.names = names
        self.initial = initial
        global = initial
        round = 0
        members = [:]
        ledgers = [:]
        lastModels = [:]
        history = []
    }

    /// Bytes the contribution ledgers take (O(clients × parameters)).
    public var ledgerBytes: Int { ledgers.values.reduce(0) { $0 + $1.byteCount } }

    /// The global weights in state-dict order.
    public var globalStateDict: [(name: String, tensor: Tensor)] { names.map { (name: $0, tensor: global[$0]!) } }

    private struct Header: Codable {
        var names: [String]
        var round: Int
        var members: [Member]
        var ledgerRounds: [String: Int]
        var history: [RoundRecord]
        var stage: Stage?
    }

    public static let headerKey = "lethe.federation"

    public func encoded() throws -> Data {
        let identities = members.keys.sorted()
        var tensors: [(name: String, tensor: Tensor)] = []
        for name in names {
            tensors.append(("initial/\(name)", initial[name]!))
            tensors.append(("global/\(name)", global[name]!))
        }
        for (index, identity) in identities.enumerated() {
            for (name, sum) in ledgers[identity]?.sums ?? [:] { tensors.append(("ledger/\(index)/\(name)", sum)) }
            for (name, tensor) in lastModels[identity] ?? [:] { tensors.append(("last/\(index)/\(name)", tensor)) }
        }
        let header = Header(
            names: names, round: round, members: identities.map { members[$0]! },
            ledgerRounds: ledgers.mapValues(\.rounds), history: history, stage: stage)
        let file = SafetensorsFile(
            tensors: tensors.sorted { $0.name < $1.name },
            metadata: [Self.headerKey: String(decoding: try JSONEncoder().encode(header), as: UTF8.self)])
        return try file.serialized()
    }

    public init(decoding data: Data) throws {
        let file = try SafetensorsFile(data: data)
        guard let text = file.metadata[Self.headerKey] else {
            throw SnapshotMismatch("not a federation state (no \(Self.headerKey) metadata)")
        }
        let header = try JSONDecoder().decode(Header.self, from: Data(text.utf8))
        var initial: [String: Tensor] = [:]
        var global: [String: Tensor] = [:]
        var ledgerSums: [Int: [String: Tensor]] = [:]
        var lastModels: [Int: [String: Tensor]] = [:]
        for entry in file.entries {
            let parts = entry.name.split(separator: "/", maxSplits: 2).map(String.init)
            switch (parts.first, parts.count) {
            case ("initial", 2): initial[parts[1]] = entry.tensor
            case ("global", 2): global[parts[1]] = entry.tensor
            case ("ledger", 3): ledgerSums[Int(parts[1]) ?? -1, default: [:]][parts[2]] = entry.tensor
            case ("last", 3): lastModels[Int(parts[1]) ?? -1, default: [:]][parts[2]] = entry.tensor
            default: throw SnapshotMismatch("unexpected tensor '\(entry.name)' in a federation state")
            }
        }
        guard header.names.allSatisfy({ initial[$0] != nil && global[$0] != nil }) else {
            throw SnapshotMismatch("the federation state lacks weights for some of its parameters")
        }
        self.init(names: header.names, initial: initial)
        self.global = global
        round = header.round
        history = header.history
        stage = header.stage ?? .rounds
        for (index, member) in header.members.enumerated() {
            members[member.identity] = member
            if let sums = ledgerSums[index] {
                ledgers[member.identity] = ContributionLedger(
                    sums: sums, rounds: header.ledgerRounds[member.identity] ?? 0)
            }
            if let last = lastModels[index] { self.lastModels[member.identity] = last }
        }
    }
}
