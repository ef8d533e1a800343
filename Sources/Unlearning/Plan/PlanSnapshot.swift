import NN
import Tensor

/// Where a plan run is between two steps, and what it has logged so far.
public struct RunProgress: Sendable, Codable, Equatable {
    /// The next step to run: `step` of phase `phase` (`phase == plan.phases.count` once finished).
    public var phase: Int
    public var step: Int
    /// Logs of the phases already finished.
    public var logs: [PhaseLog]
    /// The unfinished phase's log so far.
    public var current: PhaseLog?

    public init(phase: Int = 0, step: Int = 0, logs: [PhaseLog] = [], current: PhaseLog? = nil) {
        self.phase = phase
        self.step = step
        self.logs = logs
        self.current = current
    }
}

/// Everything a resumed run needs (DESIGN §6): the plan state's tensors (student, optimizer state, named
/// tensors), its labels, scalars and learning rates, and the run's progress. Resuming from a snapshot gives
/// the bits of an uninterrupted run.
public struct PlanSnapshot: Sendable, Equatable {
    public struct Header: Sendable, Codable, Equatable {
        public var progress: RunProgress
        public var labels: [String: [Int]]
        public var scalars: [String: Double]
        public var learningRates: [String: Float]
        /// Training indices the run has read so far (for the report's `data_touched`).
        public var touched: [Int] = []
        /// Seconds the run had spent in its plan when the snapshot was taken, over every restart before it (nil
        /// in snapshots of older versions), so that a resumed run's report times the whole run.
        public var seconds: Double?
    }

    public var header: Header
    /// "student/<name>", "optimizer/<optimizer>/<key>" and "tensor/<name>".
    public var tensors: [String: Tensor]

    public init(header: Header, tensors: [String: Tensor]) {
        self.header = header
        self.tensors = tensors
    }

    public init(_ state: PlanState, progress: RunProgress, touched: Set<Int> = [], seconds: Double? = nil) {
        var tensors: [String: Tensor] = [:]
        for (name, tensor) in state.student.stateDict() { tensors["student/" + name] = tensor }
        for (optimizerName, optimizer) in state.optimizers {
            for (key, tensor) in optimizer.state { tensors["optimizer/\(optimizerName)/\(key)"] = tensor }
        }
        for (name, tensor) in state.tensors { tensors["tensor/" + name] = tensor }
        header = Header(
            progress: progress, labels: state.labels, scalars: state.scalars,
            learningRates: state.optimizers.mapValues(\.learningRate), touched: touched.sorted(), seconds: seconds)
        self.tensors = tensors
    }

    /// Puts the snapshot's state into `state` (made by the same plan: same student architecture and optimizers).
    public func restore(into state: PlanState) throws {
        try state.student.load(
            stateDict: state.student.stateDict().map { entry in
                guard let tensor = tensors["student/" + entry.name] else {
                    throw SnapshotMismatch("the snapshot has no student tensor \(entry.name)")
                }
                return (name: entry.name, tensor: tensor)
            })
        for (name, optimizer) in state.optimizers {
            let prefix = "optimizer/\(name)/"
            optimizer.state = Dictionary(
                uniqueKeysWithValues: tensors.filter { $0.key.hasPrefix(prefix) }.map {
                    (String($0.key.dropFirst(prefix.count)), $0.value)
                })
            if let rate = header.learningRates[name] { optimizer.learningRate = rate }
        }
        state.tensors = Dictionary(
            uniqueKeysWithValues: tensors.filter { $0.key.hasPrefix("tensor/") }.map {
                (String($0.key.dropFirst("tensor/".count)), $0.value)
            })
        state.labels = header.labels
        state.scalars = header.scalars
    }
}

public struct SnapshotMismatch: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
