import Foundation
import Tensor

/// The attention maps of [N, C, H, W] features as `attentionTransfer` defines them: per row, q / max(‖q‖, 1e-12)
/// with q the channel mean of x² — [N, H·W]. Kept in place of a model's features when only the maps are needed.
public func attentionMaps(_ features: Tensor) -> Tensor {
    precondition(features.rank == 4, "attentionMaps needs [N, C, H, W], got \(features.shape)")
    let (rows, channels, positions) = (features.shape[0], features.shape[1], features.shape[2] * features.shape[3])
    return Tensor(shape: [rows, positions]) { maps in
        features.withUnsafeBufferPointer { x in
            for row in 0..<rows {
                let (q, norm) = attentionMap(
                    x, base: row * channels * positions, channels: channels, positions: positions)
                for p in 0..<positions { maps[row * positions + p] = q[p] / norm }
            }
        }
    }
}

/// `attentionTransfer` against given teacher maps [N, H·W] (`attentionMaps` of the teacher's features): per row
/// the mean over positions of (a(student) − map)², rows combined by `reduction`; the gradient is with respect to
/// the student's features [N, C, H, W].
public func attentionTransfer(student: Tensor, teacherMaps: Tensor, reduction: Reduction = .mean) -> LossResult {
    let (rows, channels, positions) = (student.shape[0], student.shape[1], student.shape[2] * student.shape[3])
    precondition(
        student.rank == 4 && teacherMaps.shape == [rows, positions],
        "attentionTransfer: features \(student.shape) vs maps \(teacherMaps.shape)")
    let scale: Float = reduction == .mean ? 1 / Float(max(rows, 1)) : 1
    let studentMaps = attentionMaps(student)
    var perSample = [Float](repeating: 0, count: rows)
    let gradient = Tensor(shape: student.shape) { grad in
        student.withUnsafeBufferPointer { s in
            studentMaps.withUnsafeBufferPointer { a in
                teacherMaps.withUnsafeBufferPointer { b in
                    for row in 0..<rows {
                        let base = row * channels * positions
                        let mapBase = row * positions
                        let (_, norm) = attentionMap(s, base: base, channels: channels, positions: positions)
                        var (loss, alignment): (Float, Float) = (0, 0)
                        var difference = [Float](repeating: 0, count: positions)
                        for p in 0..<positions {
                            let d = a[mapBase + p] - b[mapBase + p]
                            loss += d * d
                            difference[p] = 2 * d / Float(positions)
                            alignment += a[mapBase + p] * difference[p]
                        }
                        perSample[row] = loss / Float(positions)
                        for p in 0..<positions {
                            let dq = (difference[p] - a[mapBase + p] * alignment) / norm * scale
                            for c in 0..<channels {
                                let i = base + c * positions + p
                                grad[i] = dq * 2 * s[i] / Float(channels)
                            }
                        }
                    }
                }
            }
        }
    }
    let value = perSample.reduce(0, +) * scale
    return LossResult(value: value, gradient: gradient, perSample: perSample)
}
