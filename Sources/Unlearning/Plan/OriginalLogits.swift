import NN

/// The original's logits on every training sample, predicted in the evaluator's batches, kept in the plan state
/// for distillation from the original to read (`LossComponent.storedDistillation`) instead of running the original
/// at every step. They depend only on the original and the data: a run whose verification has the original's
/// predictions on every training sample (computed, or from the cache) hands them over
/// (`PlanState.originalPredictions`) and the phase costs nothing; either way they are the same bits.
public enum OriginalLogits {
    /// The plan-state tensor [training samples, classes].
    public static let tensor = "original.logits"

    /// The phase that fills the tensor.
    public static func phase(_ problem: UnlearningProblem) -> PredictionPhase {
        let every = Array(0..<problem.train.count)
        return PredictionPhase(
            name: "original's logits",
            request: { _ in PredictionRequest(subject: .frozen(.original), indices: every, countsAsRead: false) },
            keep: { predictions, state in state.tensors[tensor] = predictions.logits })
    }

    /// KL(softmax(original/T) ‖ softmax(student/T)) · T² on the training samples `batch` (a part's inputs).
    public static func distillation(over batch: [Int], temperature: Float, weight: Float) -> LossComponent {
        .storedDistillation(logits: tensor, rows: batch, temperature: temperature, weight: weight)
    }
}
