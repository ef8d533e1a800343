import Foundation
import Tensor

extension MembershipInference {
    /// The per-sample score a membership-inference attacker sees.
    public enum Feature: String, Sendable, Codable, CaseIterable {
        /// The cross-entropy loss of each sample against its label.
        case loss
        /// The entropy of each sample's softmax output (natural log).
        case entropy
    }

    /// The scores of one feature kind for every sample of a prediction run.
    public static func features(_ kind: Feature, of predictions: Evaluator.Predictions) -> [Double] {
        switch kind {
        case .loss: lossFeatures(predictions.losses)
        case .entropy: entropy(ofSoftmaxRows: predictions.logits)
        }
    }

    /// Per-sample cross-entropy losses as attack scores, unchanged apart from the conversion to Double.
    public static func lossFeatures(_ losses: [Float]) -> [Double] {
        losses.map { Double($0) }
    }

    /// The entropy −Σ p·ln p of softmax(row) for each row of [N, C] logits, in [0, ln C]. Uniform logits give ln C.
    public static func entropy(ofSoftmaxRows logits: Tensor) -> [Double] {
        let logProbabilities = MetricsSupport.logSoftmaxRows(logits)
        let (rows, classes) = (logits.shape[0], logits.shape[1])
        return (0..<rows).map { row in
            var total = 0.0
            for index in (row * classes)..<((row + 1) * classes) {
                let logP = logProbabilities[index]
                total -= exp(logP) * logP  // exp(−∞)·(−∞) never arises: log-softmax of finite logits is finite.
            }
            return max(0, total)
        }
    }
}
