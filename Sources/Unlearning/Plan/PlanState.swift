import NN
import Tensor

/// Everything a running plan changes: the student's weights, the optimizers' state, named tensors (learned
/// noise, Fisher sums, rewind snapshots), label lists and scalars. Phases read and write it between steps;
/// together with the position reached it is all a resumed run needs.
public final class PlanState {
    public let student: Model
    public var optimizers: [String: Optimizer]
    public var tensors: [String: Tensor] = [:]
    public var labels: [String: [Int]] = [:]
    public var scalars: [String: Double] = [:]
    /// The original's predictions on training samples, when the run already has them (its verification's,
    /// computed or from the cache): a request for samples among them is answered from them, with the bits
    /// predicting again would give (a sample's prediction does not depend on its batch). Not part of snapshots.
    public var originalPredictions: ModelPredictions?

    public init(student: Model, optimizers: [String: Optimizer] = [:]) {
        self.student = student
        self.optimizers = optimizers
    }

    /// The optimizer a phase named; plans create every optimizer they use up front.
    public func optimizer(_ name: String) -> Optimizer {
        guard let optimizer = optimizers[name] else { preconditionFailure("the plan has no optimizer '\(name)'") }
        return optimizer
    }

    /// Copies the student's state into tensors named `prefix` + parameter name.
    public func saveStudent(as prefix: String) {
        for (name, tensor) in student.stateDict() { tensors[prefix + name] = tensor }
    }

    /// Restores a copy made by `saveStudent(as:)`.
    public func restoreStudent(from prefix: String) throws(StateDictMismatch) {
        try student.load(stateDict: student.stateDict().map { (name: $0.name, tensor: tensors[prefix + $0.name]!) })
    }
}

extension PlanState {
    /// The original's predictions `request` asks for, from `originalPredictions` when they hold every sample it
    /// names.
    func known(_ request: PredictionRequest) -> Evaluator.Predictions? {
        guard let originalPredictions, request.subject == .frozen(.original) else { return nil }
        return originalPredictions.heldTrain(at: request.indices)
    }
}
