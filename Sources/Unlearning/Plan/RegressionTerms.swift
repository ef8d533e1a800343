import Data
import NN
import Tensor

/// The rows of one part a shard computes, for terms that read stored values row by row: the samples' own
/// regression targets, or rows of plan-state tensors.
struct PartRows {
    /// The shard's training indices of the part (nil for parts of state-tensor rows).
    let samples: [Int]?
    /// The shard's rows within the part.
    let range: Range<Int>
    let dataset: Dataset
    let tensors: [String: Tensor]

    /// The targets of the shard's rows [rows, K].
    func targets(_ target: RegressionTarget) -> Tensor {
        switch target {
        case .dataset:
            guard let samples else { preconditionFailure("dataset targets need a part of training samples") }
            return dataset.targets(of: samples)
        case .tensorRows(let name, let rows):
            return stored(name, rows: rows)
        }
    }

    /// Rows `rows` (one per part row) of state tensor `name`, cut to the shard's rows.
    func stored(_ name: String, rows: [Int]) -> Tensor {
        guard let tensor = tensors[name] else { preconditionFailure("the plan state has no tensor '\(name)'") }
        return tensor.gather(rows: Array(rows[range]))
    }
}

/// Regression terms on one part's rows of a shard.
enum RegressionTerms {
    /// |output − target| or (output − target)², each row the mean over its K outputs, summed over rows.
    static func error(
        _ component: LossComponent, studentOutputs: Tensor, part: PartRows
    ) -> LossTermResult {
        let outputs = studentOutputs.shape[1]
        let result: LossResult
        switch component {
        case .absoluteError(let target, _):
            result = meanAbsoluteError(prediction: studentOutputs, target: part.targets(target), reduction: .sum)
        case .squaredError(let target, _):
            result = meanSquaredError(prediction: studentOutputs, target: part.targets(target), reduction: .sum)
        default: preconditionFailure("\(component) is not a regression error")
        }
        guard outputs > 1 else { return LossTermResult(value: result.value, logitsGradient: result.gradient) }
        var gradient = result.gradient
        gradient.scale(by: 1 / Float(outputs))
        return LossTermResult(value: result.value / Float(outputs), logitsGradient: gradient)
    }

    /// Σ over layers of the attention-transfer loss of the student's whole-shard features at `rows` (the part's
    /// rows in the shard) against the stored maps of those rows.
    static func attentionToMaps(
        maps: String, rows: [Int], layers: [String], tap: FeatureTap?, shardRows: Range<Int>, part: PartRows
    ) -> LossTermResult {
        var total: Float = 0
        var gradients: [String: Tensor] = [:]
        for layer in layers {
            guard let features = tap?.features[layer] else {
                preconditionFailure("the model has no layer '\(layer)' to compare attention at")
            }
            let result = attentionTransfer(
                student: features.slice(rows: shardRows), teacherMaps: part.stored(maps + layer, rows: rows),
                reduction: .sum)
            var gradient = Tensor(zeros: features.shape)
            gradient.addRows(result.gradient, at: shardRows.lowerBound)
            total += result.value
            gradients[layer] = gradient
        }
        return LossTermResult(value: total, logitsGradient: nil, featureGradients: gradients)
    }
}
