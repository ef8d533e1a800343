/// Progress of a long-running phase, for progress bars and logs.
public struct PhaseProgress: Sendable {
    public var phase: String
    public var completed: Int
    public var total: Int
    /// The latest loss, when the phase optimises one.
    public var loss: Double?
    /// The phase ended after `completed` of its `total` steps (this is its last report).
    public var stoppedEarly: Bool

    public init(phase: String, completed: Int, total: Int, loss: Double? = nil, stoppedEarly: Bool = false) {
        self.phase = phase
        self.completed = completed
        self.total = total
        self.loss = loss
        self.stoppedEarly = stoppedEarly
    }

    /// The phase's last report.
    public var isFinal: Bool { stoppedEarly || completed >= total }

    /// "14/85, stopped early" or "85/85".
    public var count: String { "\(completed)/\(total)" + (stoppedEarly ? ", stopped early" : "") }
}

public typealias ProgressHandler = @Sendable (PhaseProgress) -> Void
