import Foundation
import Tensor

/// Attention transfer (Zagoruyko & Komodakis), as zero-shot knowledge transfer uses it: per row of [N, C, H, W]
/// features, the attention map a(x) = q / ‖q‖ with q the channel mean of x² (H·W values), and the loss the mean
/// over the map's positions of (a(student) − a(teacher))². Rows combine by `reduction` (`.mean` is PyTorch's
/// `(at(s) − at(t)).pow(2).mean()`). The gradient is with respect to the student's features.
public func attentionTransfer(student: Tensor, teacher: Tensor, reduction: Reduction = .mean) -> LossResult {
    precondition(
        student.shape == teacher.shape && student.rank == 4, "attentionTransfer: \(student.shape) vs \(teacher.shape)")
    let (rows, channels, positions) = (student.shape[0], student.shape[1], student.shape[2] * student.shape[3])
    let scale: Float = reduction == .mean ? 1 / Float(max(rows, 1)) : 1
    var perSample = [Float](repeating: 0, count: rows)
    let gradient = Tensor(shape: student.shape) { grad in
        student.withUnsafeBufferPointer { s in
            teacher.withUnsafeBufferPointer { t in
                for row in 0..<rows {
                    let base = row * channels * positions
                    let (qs, studentNorm) = attentionMap(s, base: base, channels: channels, positions: positions)
                    let (qt, teacherNorm) = attentionMap(t, base: base, channels: channels, positions: positions)
                    var (loss, alignment): (Float, Float) = (0, 0)  // Σ (a_s − a_t)², a_s · ∂loss/∂a_s
                    var difference = [Float](repeating: 0, count: positions)
                    for p in 0..<positions {
                        let (a, b) = (qs[p] / studentNorm, qt[p] / teacherNorm)
                        loss += (a - b) * (a - b)
                        difference[p] = 2 * (a - b) / Float(positions)
                        alignment += a * difference[p]
                    }
                    perSample[row] = loss / Float(positions)
                    // ∂/∂q of f(q/‖q‖) is (∂f/∂a − a·(a·∂f/∂a)) / ‖q‖; ∂q_p/∂x_cp = 2·x_cp / C.
                    for p in 0..<positions {
                        let dq = (difference[p] - qs[p] / studentNorm * alignment) / studentNorm * scale
                        for c in 0..<channels {
                            let i = base + c * positions + p
                            grad[i] = dq * 2 * s[i] / Float(channels)
                        }
                    }
                }
            }
        }
    }
    let value = perSample.reduce(0, +) * scale
    return LossResult(value: value, gradient: gradient, perSample: perSample)
}

/// q_p = mean over channels of x², for one row, and max(‖q‖, 1e-12) (PyTorch's `F.normalize`).
func attentionMap(_ x: UnsafeBufferPointer<Float>, base: Int, channels: Int, positions: Int) -> ([Float], Float) {
    var q = [Float](repeating: 0, count: positions)
    for c in 0..<channels {
        for p in 0..<positions { q[p] += x[base + c * positions + p] * x[base + c * positions + p] }
    }
    var norm: Float = 0
    for p in 0..<positions {
        q[p] /= Float(channels)
        norm += q[p] * q[p]
    }
    return (q, max(norm.squareRoot(), 1e-12))
}
