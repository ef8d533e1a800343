import NN
import Tensor

/// The original's logits on the training samples distillation from the original reads
/// (`LossComponent.storedDistillation`), predicted once in the evaluator's batches and kept in the plan state
/// instead of running the original at every step. They depend only on the original and the data, and a sample's
/// prediction not on its batch: a run whose verification predicted the original on those samples (or found them in
/// the cache) hands them over (`PlanState.originalPredictions`) and the phase costs nothing; either way they are the
/// same bits.
public enum OriginalLogits {
    /// The plan-state tensor [training samples, classes] (rows the plan does not read are zero).
    public static let tensor = "original.logits"

    /// The phase that fills the tensor's `rows` (ascending; the plan's `originalRows`).
    public static func phase(_ problem: UnlearningProblem, rows: [Int]) -> PredictionPhase {
        let (count, classes) = (problem.train.count, problem.train.classCount)
        return PredictionPhase(
            name: "original's logits",
            request: { _ in PredictionRequest(subject: .frozen(.original), indices: rows, countsAsRead: false) },
            keep: { predictions, state in
                var logits = Tensor(zeros: [count, predictions.logits.shape.last ?? classes])
                logits.setRows(predictions.logits, at: rows)
                state.tensors[tensor] = logits
            })
    }

    /// KL(softmax(original/T) ‖ softmax(student/T)) · T² on the training samples `batch` (a part's inputs).
    public static func distillation(over batch: [Int], temperature: Float, weight: Float) -> LossComponent {
        .storedDistillation(logits: tensor, rows: batch, temperature: temperature, weight: weight)
    }
}
