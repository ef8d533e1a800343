/// Federated work for one client in one round (DESIGN §7). The global weights travel as tensor frames named by
/// parameter; for projected gradient ascent also "reference/<parameter>".
public struct RoundTask: Sendable, Equatable {
    public enum Kind: Int, Sendable, CustomStringConvertible {
        /// Local SGD epochs from the global weights (FedAvg).
        case train = 0
        /// Per-class accuracy and per-sample losses on the local data.
        case evaluate = 1
        /// Gradient ascent on the local data (a leaving client's NegGrad or PGA).
        case ascend = 2

        public var description: String {
            switch self {
            case .train: "train"
            case .evaluate: "evaluate"
            case .ascend: "ascend"
            }
        }
    }

    public var job: String
    public var round: Int
    public var kind: Kind
    public var architecture: String
    public var epochs: Int
    public var batchSize: Int
    public var learningRate: Float
    public var momentum: Float
    public var weightDecay: Float
    public var seed: UInt64
    /// `.ascend`: the largest L2 distance from the reference weights (0: unbounded).
    public var radius: Float
    /// `.evaluate`: how many per-sample losses to return, a seeded subset (for membership inference).
    public var membershipSamples: Int

    public init(
        job: String, round: Int, kind: Kind, architecture: String, epochs: Int = 1, batchSize: Int = 64,
        learningRate: Float = 0.01, momentum: Float = 0, weightDecay: Float = 0, seed: UInt64 = 1,
        radius: Float = 0, membershipSamples: Int = 0
    ) {
        self.job = job
        self.round = round
        self.kind = kind
        self.architecture = architecture
        self.epochs = epochs
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
        self.seed = seed
        self.radius = radius
        self.membershipSamples = membershipSamples
    }
}

/// A client's answer to a round task: its new weights ride as tensor frames named by parameter (`.train`,
/// `.ascend`); an evaluation carries per-class counts and a "losses" frame.
public struct RoundUpdate: Sendable, Equatable {
    public var job: String
    public var round: Int
    public var kind: RoundTask.Kind
    public var samples: Int
    public var meanLoss: Double
    public var seconds: Double
    public var correct: [Int]
    public var total: [Int]

    public init(
        job: String, round: Int, kind: RoundTask.Kind, samples: Int, meanLoss: Double, seconds: Double,
        correct: [Int] = [], total: [Int] = []
    ) {
        self.job = job
        self.round = round
        self.kind = kind
        self.samples = samples
        self.meanLoss = meanLoss
        self.seconds = seconds
        self.correct = correct
        self.total = total
    }
}
