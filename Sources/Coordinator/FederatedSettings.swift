import Federated
import Foundation
import Jobs
import Transport
import Unlearning

/// A federated training job's settings, from `lethe submit --federated` flags and `--param key=value`.
public struct FederatedSettings: Sendable, Equatable {
    public static let declarations: [MethodParameters.Declaration] = [
        .init("rounds", "10", "FedAvg rounds", .count(1...10_000)),
        .init("local-epochs", "1", "Local epochs per round", .count(1...UnlearningLimits.epochs)),
        .init("clients", "2", "Clients that must be online before the first round", .count(1...10_000)),
        .init("fraction", "1.0", "Fraction of the online clients chosen each round (seeded)", .fraction),
        .init("lr", "0.01", "Local SGD learning rate", .positive),
        .init("momentum", "0.9", "Local SGD momentum (reset every round)", .belowOne),
        .init("weight-decay", "0.0", "Local SGD weight decay", .nonNegative),
        .init("batch-size", "64", "Local minibatch size", .batchSize),
        .init("deadline", "600.0", "Seconds a round waits for its clients; the late miss it", .positive),
        .init("quorum", "0.5", "Fraction of a round's clients that must answer, or the round is run again", .fraction),
        .init("reference", "initial", "Contribution ledger reference: initial (ConDa) or round (each round's start)"),
        .init("exclude", "", "Clients (key or name, '+'-separated) left out of every round"),
        .init(
            "membership-samples", "1000", "Per-sample losses each client returns for membership inference",
            .count(0...UnlearningLimits.samples)),
        .init("backdoor", "", "Measure this backdoor's success rate on the test set, e.g. target:0,patch:3"),
    ]

    public var rounds: Int
    public var localEpochs: Int
    public var clients: Int
    public var fraction: Double
    public var learningRate: Float
    public var momentum: Float
    public var weightDecay: Float
    public var batchSize: Int
    public var deadlineSeconds: Double
    public var quorum: Double
    public var reference: ReferenceModel
    public var excluded: [String]
    public var membershipSamples: Int
    public var backdoor: Backdoor?

    public init(_ params: [String: String]) throws {
        let p = try MethodParameters(Self.declarations, overrides: params)
        rounds = p.int("rounds")
        localEpochs = p.int("local-epochs")
        clients = p.int("clients")
        fraction = Double(try p.fraction("fraction"))
        learningRate = p.float("lr")
        momentum = p.float("momentum")
        weightDecay = p.float("weight-decay")
        batchSize = p.int("batch-size")
        deadlineSeconds = Double(p.float("deadline"))
        quorum = Double(try p.fraction("quorum"))
        membershipSamples = p.int("membership-samples")
        excluded = p.string("exclude").split(separator: "+").map(String.init)
        guard let reference = ReferenceModel(rawValue: p.string("reference")) else {
            throw MethodParameterError.outOfRange("reference must be initial or round")
        }
        self.reference = reference
        backdoor = p.string("backdoor").isEmpty ? nil : try Backdoor(parsing: p.string("backdoor"))
        guard rounds >= 1, localEpochs >= 1, clients >= 1, batchSize >= 1, membershipSamples >= 0 else {
            throw MethodParameterError.outOfRange("rounds, local-epochs, clients and batch-size must be ≥ 1")
        }
        guard learningRate > 0, momentum >= 0, momentum < 1, weightDecay >= 0, deadlineSeconds > 0 else {
            throw MethodParameterError.outOfRange("lr and deadline must be > 0, momentum in [0, 1), weight-decay ≥ 0")
        }
    }

    /// How many of `selected` clients must answer for a round to count.
    public func quorumCount(of selected: Int) -> Int { max(1, Int((quorum * Double(selected)).rounded(.up))) }
}

/// How `lethe forget-client` forgets: the method and its settings.
public struct ForgettingSettings: Sendable, Equatable {
    public static let methods = ["conda", "retrain", "neggrad", "pga"]
    public static let declarations: [MethodParameters.Declaration] = [
        // Tuned on the 10-client FashionMNIST runs of docs/RESULTS.md (two split seeds); the paper's alpha=0.5,
        // lambda=1 left most of a backdoor in place there.
        .init(
            "alpha", "0.7", "conda: dampen parameters whose remaining/forgotten ledger ratio is below this",
            .positive),
        .init("lambda", "0.7", "conda: dampening factor min(lambda·ratio, upper)", .positive),
        .init("upper", "1.0", "conda: largest dampening factor", .positive),
        .init("repo-compat", "false", "conda: the inverted ratio of the ConDa reference code"),
        .init("toward", "zero", "conda: dampen toward zero (ConDa) or toward the initial weights (initial)"),
        .init("repair-rounds", "0", "FedAvg rounds with the remaining clients afterwards", .count(0...10_000)),
        .init("lr", "0.01", "neggrad/pga: the forgotten client's gradient-ascent learning rate", .positive),
        .init("epochs", "1", "neggrad/pga: ascent epochs on the forgotten client", .count(1...UnlearningLimits.epochs)),
        .init(
            "radius", "-1.0",
            "pga: L2 ball radius around the other clients' mean (-1: a third of its distance from the initial model)",
            .automaticOr(.positive)),
        .init("backdoor", "", "Measure this backdoor's success rate on the test set, e.g. target:0,patch:3"),
    ]

    public var method: String
    public var conda: ConDa
    public var repairRounds: Int
    public var ascentLearningRate: Float
    public var ascentEpochs: Int
    public var radius: Float?
    public var backdoor: Backdoor?
    /// conda: scale θ − θ₀ instead of θ.
    public var towardInitial: Bool

    public init(method: String, params: [String: String]) throws {
        guard Self.methods.contains(method) else {
            throw MethodParameterError.outOfRange(
                "unknown client-forgetting method '\(method)'; choose one of \(Self.methods.joined(separator: ", "))")
        }
        let p = try MethodParameters(Self.declarations, overrides: params)
        self.method = method
        conda = ConDa(
            alpha: p.float("alpha"), lambda: p.float("lambda"), upper: p.float("upper"),
            repoCompat: p.bool("repo-compat"))
        guard ["zero", "initial"].contains(p.string("toward")) else {
            throw MethodParameterError.outOfRange("toward must be zero or initial")
        }
        towardInitial = p.string("toward") == "initial"
        repairRounds = p.int("repair-rounds")
        ascentLearningRate = p.float("lr")
        ascentEpochs = p.int("epochs")
        radius = p.positiveOrOff("radius")
        backdoor = p.string("backdoor").isEmpty ? nil : try Backdoor(parsing: p.string("backdoor"))
        guard repairRounds >= 0, ascentEpochs >= 1, ascentLearningRate > 0, conda.alpha > 0, conda.lambda > 0,
            conda.upper > 0
        else {
            throw MethodParameterError.outOfRange("alpha, lambda, upper, lr must be > 0, epochs ≥ 1, repair-rounds ≥ 0")
        }
    }
}
