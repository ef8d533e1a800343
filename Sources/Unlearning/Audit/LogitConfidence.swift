import Foundation
import Tensor

/// LiRA's logit-scaled confidence on the true label, φ = log(p / (1 − p)) with p = softmax(z)_y.
///
/// Computed without forming p: log p = z_y − LSE(z) and log(1 − p) = LSE_{j≠y}(z_j) − LSE(z), so
/// φ = z_y − LSE_{j≠y}(z_j), a difference of two finite numbers however sure the model is (p rounding to 1 in
/// float arithmetic does not make it infinite). The result is clamped to ±`limit`: a model with a single class
/// (no j ≠ y) or non-finite logits still gives a finite score.
public enum LogitConfidence {
    /// |φ| never exceeds this (p within e^-100 of 0 or 1 is beyond anything a float32 model resolves).
    public static let limit = 100.0

    /// φ for one row of logits and its label.
    public static func phi(logits: [Float], label: Int) -> Double {
        precondition(logits.indices.contains(label), "label \(label) is not one of \(logits.count) classes")
        let target = Double(logits[label])
        var largest = -Double.infinity
        for (j, z) in logits.enumerated() where j != label { largest = max(largest, Double(z)) }
        guard largest.isFinite else { return clamp(target.isNaN ? 0 : target - largest) }
        var sum = 0.0
        for (j, z) in logits.enumerated() where j != label { sum += exp(Double(z) - largest) }
        return clamp(target - (largest + log(sum)))
    }

    /// φ of every row of `logits` [N, C] against `labels`.
    public static func phi(logits: Tensor, labels: [Int]) -> [Double] {
        precondition(logits.rank == 2 && logits.shape[0] == labels.count, "one label per row of logits")
        let classes = logits.shape[1]
        return logits.withUnsafeBufferPointer { z in
            labels.enumerated().map { row, label in
                phi(logits: Array(z[(row * classes)..<((row + 1) * classes)]), label: label)
            }
        }
    }

    private static func clamp(_ value: Double) -> Double {
        guard !value.isNaN else { return 0 }
        return min(max(value, -limit), limit)
    }
}
