import Foundation
import Tensor

/// How per-sample losses combine into one number.
public enum Reduction: Sendable {
    case mean
    case sum
}

/// A loss value and its gradient with respect to the prediction.
public struct LossResult: Sendable {
    public let value: Float
    public let gradient: Tensor
    /// One loss per sample, before reduction.
    public let perSample: [Float]
}

/// Numerically stable log-softmax of each row of [N, C] logits, scaled by 1/temperature first.
public func logSoftmax(_ logits: Tensor, temperature: Float = 1) -> Tensor {
    precondition(logits.rank == 2, "logSoftmax needs [N, C] logits, got \(logits.shape)")
    let (rows, classes) = (logits.shape[0], logits.shape[1])
    return Tensor(shape: logits.shape) { out in
        logits.withUnsafeBufferPointer { z in
            for row in 0..<rows {
                let base = row * classes
                var largest = -Float.infinity
                for c in 0..<classes { largest = max(largest, z[base + c] / temperature) }
                var total: Float = 0
                for c in 0..<classes { total += exp(z[base + c] / temperature - largest) }
                let logTotal = log(total) + largest
                for c in 0..<classes { out[base + c] = z[base + c] / temperature - logTotal }
            }
        }
    }
}

public func softmax(_ logits: Tensor, temperature: Float = 1) -> Tensor {
    logSoftmax(logits, temperature: temperature).map { exp($0) }
}

/// Cross-entropy of [N, C] logits against class labels, with optional label smoothing ε (the target is
/// (1−ε)·one-hot + ε/C, as in PyTorch).
public func crossEntropy(
    logits: Tensor, labels: [Int], labelSmoothing: Float = 0, reduction: Reduction = .mean
) -> LossResult {
    precondition(
        logits.rank == 2 && logits.shape[0] == labels.count, "crossEntropy: \(logits.shape) vs \(labels.count) labels")
    let (rows, classes) = (logits.shape[0], logits.shape[1])
    let logProbabilities = logSoftmax(logits)
    let scale: Float = reduction == .mean ? 1 / Float(max(rows, 1)) : 1
    var perSample = [Float](repeating: 0, count: rows)
    let gradient = Tensor(shape: logits.shape) { grad in
        logProbabilities.withUnsafeBufferPointer { logp in
            for row in 0..<rows {
                let label = labels[row]
                precondition(label >= 0 && label < classes, "label \(label) out of range 0..<\(classes)")
                let base = row * classes
                var loss: Float = 0
                for c in 0..<classes {
                    let target = (c == label ? 1 - labelSmoothing : 0) + labelSmoothing / Float(classes)
                    loss -= target * logp[base + c]
                    grad[base + c] = (exp(logp[base + c]) - target) * scale
                }
                perSample[row] = loss
            }
        }
    }
    return LossResult(value: reduce(perSample, reduction), gradient: gradient, perSample: perSample)
}

/// Knowledge-distillation loss KL(softmax(teacher/T) ‖ softmax(student/T)), summed over classes, divided by
/// the batch size and multiplied by T² (so gradients keep their scale across temperatures). The gradient
/// is with respect to the student logits.
public func klDivergence(
    student: Tensor, teacher: Tensor, temperature: Float = 1, reduction: Reduction = .mean
) -> LossResult {
    precondition(
        student.shape == teacher.shape && student.rank == 2, "klDivergence: \(student.shape) vs \(teacher.shape)")
    let (rows, classes) = (student.shape[0], student.shape[1])
    let logStudent = logSoftmax(student, temperature: temperature)
    let logTeacher = logSoftmax(teacher, temperature: temperature)
    let t2 = temperature * temperature
    let scale: Float = reduction == .mean ? 1 / Float(max(rows, 1)) : 1
    var perSample = [Float](repeating: 0, count: rows)
    let gradient = Tensor(shape: student.shape) { grad in
        logStudent.withUnsafeBufferPointer { ls in
            logTeacher.withUnsafeBufferPointer { lt in
                for row in 0..<rows {
                    for c in 0..<classes {
                        let i = row * classes + c
                        grad[i] = temperature * (exp(ls[i]) - exp(lt[i])) * scale
                    }
                    perSample[row] = rowDivergence(ls, lt, row: row, classes: classes) * t2
                }
            }
        }
    }
    return LossResult(value: reduce(perSample, reduction), gradient: gradient, perSample: perSample)
}

/// ∂/∂teacher of the summed `klDivergence(student:teacher:temperature:)` (for a teacher whose logits depend on
/// inputs being learned, e.g. a generator's images): T·p_t ⊙ ((log p_t − log p_s) − KL_row/T²) per row.
public func klDivergenceTeacherGradient(student: Tensor, teacher: Tensor, temperature: Float = 1) -> Tensor {
    precondition(
        student.shape == teacher.shape && student.rank == 2, "klDivergence: \(student.shape) vs \(teacher.shape)")
    let (rows, classes) = (student.shape[0], student.shape[1])
    let logStudent = logSoftmax(student, temperature: temperature)
    let logTeacher = logSoftmax(teacher, temperature: temperature)
    return Tensor(shape: teacher.shape) { grad in
        logStudent.withUnsafeBufferPointer { ls in
            logTeacher.withUnsafeBufferPointer { lt in
                for row in 0..<rows {
                    let divergence = rowDivergence(ls, lt, row: row, classes: classes)
                    for c in 0..<classes {
                        let i = row * classes + c
                        grad[i] = temperature * exp(lt[i]) * ((lt[i] - ls[i]) - divergence)
                    }
                }
            }
        }
    }
}

/// Σ_c p_t (log p_t − log p_s) over one row of log-probabilities (classes the teacher gives probability 0 add
/// nothing): the row's KL(teacher ‖ student) at the logits' temperature.
@inline(__always)
private func rowDivergence(
    _ logStudent: UnsafeBufferPointer<Float>, _ logTeacher: UnsafeBufferPointer<Float>, row: Int, classes: Int
) -> Float {
    var divergence: Float = 0
    for c in 0..<classes {
        let i = row * classes + c
        let pTeacher = exp(logTeacher[i])
        if pTeacher > 0 { divergence += pTeacher * (logTeacher[i] - logStudent[i]) }
    }
    return divergence
}

/// Mean squared error over all elements (per-sample values are the row sums of squared errors).
public func meanSquaredError(prediction: Tensor, target: Tensor, reduction: Reduction = .mean) -> LossResult {
    elementwiseLoss("meanSquaredError", prediction: prediction, target: target, reduction: reduction) { d in
        (d * d, 2 * d)
    }
}

private func reduce(_ values: [Float], _ reduction: Reduction) -> Float {
    let total = values.reduce(0.0) { $0 + Double($1) }
    return Float(reduction == .mean ? total / Double(max(values.count, 1)) : total)
}

/// Mean absolute error (L1) over all elements, PyTorch's `F.l1_loss` (per-sample values are the row sums of
/// absolute errors). The gradient is sign(prediction − target) (0 where they are equal), scaled as the value.
public func meanAbsoluteError(prediction: Tensor, target: Tensor, reduction: Reduction = .mean) -> LossResult {
    elementwiseLoss("meanAbsoluteError", prediction: prediction, target: target, reduction: reduction) { d in
        (abs(d), d > 0 ? 1 : (d < 0 ? -1 : 0))
    }
}

/// A loss that sums `penalty(prediction − target).value` over all elements, with gradient `.slope` times the
/// reduction's scale; per-sample values are the row sums.
private func elementwiseLoss(
    _ name: String, prediction: Tensor, target: Tensor, reduction: Reduction,
    penalty: (Float) -> (value: Float, slope: Float)
) -> LossResult {
    precondition(prediction.shape == target.shape, "\(name): \(prediction.shape) vs \(target.shape)")
    let rows = prediction.rank > 0 ? prediction.shape[0] : 1
    let rowSize = prediction.count / max(rows, 1)
    let scale: Float = reduction == .mean ? 1 / Float(max(prediction.count, 1)) : 1
    var perSample = [Float](repeating: 0, count: rows)
    var total = 0.0
    let gradient = Tensor(shape: prediction.shape) { grad in
        prediction.withUnsafeBufferPointer { p in
            target.withUnsafeBufferPointer { t in
                for i in 0..<p.count {
                    let (value, slope) = penalty(p[i] - t[i])
                    grad[i] = slope * scale
                    perSample[i / max(rowSize, 1)] += value
                    total += Double(value)
                }
            }
        }
    }
    return LossResult(value: Float(total) * scale, gradient: gradient, perSample: perSample)
}
