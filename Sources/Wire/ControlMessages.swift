/// An unlearning job as submitted: the method and settings, and every input as a blob hash.
public struct JobSpec: Sendable, Equatable, Codable {
    public var method: String
    public var params: [String: String]
    public var architecture: String
    public var weightsSHA256: String
    public var trainSHA256: String
    public var testSHA256: String
    /// JSON: the resolved forget set, validation indices, recipe and checkpoint metadata.
    public var scenarioSHA256: String
    public var seed: UInt64
    public var shards: Int
    public var referenceSHA256: String?
    /// What the user called the weights file, and the forget selection, for reports and listings.
    public var weightsName: String
    public var forget: String
    /// nil for unlearning, "federated" for FedAvg training with clients, "forget-client" for forgetting one.
    public var kind: String?
    /// forget-client: the federated job whose model and ledgers it starts from, and the client (key or name).
    public var sourceJob: String?
    public var client: String?
    /// JSON (`AuditBundle`): the references of the membership audit that judges the result, and the audit's data;
    /// nil for a job without the audit.
    public var auditSHA256: String?
    /// Dataset blobs: the training and test sets as the user loaded them (before any holdout or relabelling), which
    /// the job's certificate names and a verifier replays from; nil when they are `trainSHA256` and `testSHA256`.
    public var sourceTrainSHA256: String?
    public var sourceTestSHA256: String?

    public init(
        method: String, params: [String: String], architecture: String, weightsSHA256: String, trainSHA256: String,
        testSHA256: String, scenarioSHA256: String, seed: UInt64, shards: Int, referenceSHA256: String?,
        weightsName: String, forget: String
    ) {
        self.method = method
        self.params = params
        self.architecture = architecture
        self.weightsSHA256 = weightsSHA256
        self.trainSHA256 = trainSHA256
        self.testSHA256 = testSHA256
        self.scenarioSHA256 = scenarioSHA256
        self.seed = seed
        self.shards = shards
        self.referenceSHA256 = referenceSHA256
        self.weightsName = weightsName
        self.forget = forget
    }

    /// Every blob the job reads.
    public var blobs: [String] {
        ([weightsSHA256, trainSHA256, testSHA256, scenarioSHA256]
            + [referenceSHA256, auditSHA256, sourceTrainSHA256, sourceTestSHA256].compactMap { $0 })
            .filter { !$0.isEmpty }
    }
}

public struct PhaseStatus: Sendable, Equatable, Codable {
    public var name: String
    public var completed: Int
    public var total: Int
    public var lastLoss: Double?
    /// The phase ended at `completed` of its `total` steps (it decided it had done its work).
    public var stoppedEarly: Bool

    public init(name: String, completed: Int, total: Int, lastLoss: Double?, stoppedEarly: Bool = false) {
        self.name = name
        self.completed = completed
        self.total = total
        self.lastLoss = lastLoss
        self.stoppedEarly = stoppedEarly
    }
}

/// What a running job is doing, for `lethe status` and `lethe watch`.
public enum JobStage {
    public static let verifyingBefore = "verifying before"
    public static let running = "running"
    public static let verifyingAfter = "verifying after"
}

/// Where a job is in its life (stored as its raw value, sent as a string).
public enum JobState: String, Sendable, Codable, CaseIterable {
    case queued, running, succeeded, failed, cancelled

    public var isFinished: Bool { self == .succeeded || self == .failed || self == .cancelled }
}

/// Where a job is.
public struct JobStatus: Sendable, Equatable, Codable {
    public var id: String
    public var state: JobState
    public var method: String
    public var forget: String
    public var phases: [PhaseStatus]
    public var message: String
    public var submittedAt: Double
    public var updatedAt: Double
    public var submittedBy: String
    /// Steps run so far, and the plan's steps (known once the job has started; phases that stop early leave
    /// theirs undone).
    public var stepsDone: Int
    public var stepsTotal: Int
    /// What a running job is doing (`JobStage`); empty otherwise.
    public var stage: String

    public init(
        id: String, state: JobState, method: String, forget: String, phases: [PhaseStatus], message: String,
        submittedAt: Double, updatedAt: Double, submittedBy: String, stepsDone: Int, stepsTotal: Int, stage: String = ""
    ) {
        self.id = id
        self.state = state
        self.method = method
        self.forget = forget
        self.phases = phases
        self.message = message
        self.submittedAt = submittedAt
        self.updatedAt = updatedAt
        self.submittedBy = submittedBy
        self.stepsDone = stepsDone
        self.stepsTotal = stepsTotal
        self.stage = stage
    }

    public var isFinished: Bool { state.isFinished }
}

/// A finished job's outputs, as blobs to download.
public struct JobOutputs: Sendable, Equatable, Codable {
    public var id: String
    public var weightsSHA256: String
    public var reportSHA256: String
    public var htmlSHA256: String
    /// Federated jobs: the federation's state (initial weights and contribution ledgers).
    public var ledgerSHA256: String?
    /// The job's signed certificate (canonical JSON), when the coordinator has a signing key and the job passed.
    public var certificateSHA256: String?

    public init(
        id: String, weightsSHA256: String, reportSHA256: String, htmlSHA256: String, ledgerSHA256: String? = nil,
        certificateSHA256: String? = nil
    ) {
        self.id = id
        self.weightsSHA256 = weightsSHA256
        self.reportSHA256 = reportSHA256
        self.htmlSHA256 = htmlSHA256
        self.ledgerSHA256 = ledgerSHA256
        self.certificateSHA256 = certificateSHA256
    }
}

/// A worker or a federated client as `lethe workers` lists it.
public struct WorkerSummary: Sendable, Equatable, Codable {
    public var name: String
    public var key: String
    public var kernelIdentity: String
    public var state: String
    public var tasksDone: Int
    public var lastSeen: Double
    public var kernelMatches: Bool
    /// "worker" or "client".
    public var role: String
    /// A client's training samples.
    public var samples: Int

    public init(
        name: String, key: String, kernelIdentity: String, state: String, tasksDone: Int, lastSeen: Double,
        kernelMatches: Bool, role: String = "worker", samples: Int = 0
    ) {
        self.role = role
        self.samples = samples
        self.name = name
        self.key = key
        self.kernelIdentity = kernelIdentity
        self.state = state
        self.tasksDone = tasksDone
        self.lastSeen = lastSeen
        self.kernelMatches = kernelMatches
    }
}

/// An offer to upload a blob; the coordinator answers how much of it it already holds.
public struct BlobOffer: Sendable, Equatable {
    public var sha256: String
    public var totalBytes: Int
    public var kind: String

    public init(sha256: String, totalBytes: Int, kind: String) {
        self.sha256 = sha256
        self.totalBytes = totalBytes
        self.kind = kind
    }
}

public struct BlobStored: Sendable, Equatable {
    public var sha256: String
    public var storedBytes: Int
    public var complete: Bool

    public init(sha256: String, storedBytes: Int, complete: Bool) {
        self.sha256 = sha256
        self.storedBytes = storedBytes
        self.complete = complete
    }
}
