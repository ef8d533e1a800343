/// Progress of a long-running phase, for progress bars and logs.
public struct PhaseProgress: Sendable {
    public var phase: String
    public var completed: Int
    public var total: Int
    /// The latest loss, when the phase optimises one.
    public var loss: Double?

    public init(phase: String, completed: Int, total: Int, loss: Double? = nil) {
        self.phase = phase
        self.completed = completed
        self.total = total
        self.loss = loss
    }
}

public typealias ProgressHandler = @Sendable (PhaseProgress) -> Void
