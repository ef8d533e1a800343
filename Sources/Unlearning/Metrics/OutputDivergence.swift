import Foundation
import Tensor

// Distances between two models' output distributions on the same samples, all computed in Double with natural logs.

/// Jensen–Shannon divergence of each row of two [N, C] probability matrices:
/// JS(p, q) = ½·KL(p ‖ m) + ½·KL(q ‖ m) with m = (p + q) / 2, taking 0·log 0 = 0. Each value is in [0, ln 2].
public func jensenShannon(_ p: Tensor, _ q: Tensor) -> [Double] {
    let (rows, classes) = MetricsSupport.matchingMatrices(p, q, "jensenShannon")
    return MetricsSupport.jensenShannonRows(
        p.scalars.map { Double($0) }, q.scalars.map { Double($0) }, rows: rows, classes: classes)
}

/// Mean over rows of the Jensen–Shannon divergence between softmax(aLogits) and softmax(bLogits), e.g. between
/// an unlearned model and a retrained reference on the same samples. In [0, ln 2]; 0 means identical outputs.
public func meanJensenShannon(_ aLogits: Tensor, _ bLogits: Tensor) -> Double {
    let (rows, classes) = MetricsSupport.matchingMatrices(aLogits, bLogits, "meanJensenShannon")
    precondition(rows > 0, "meanJensenShannon needs at least one row")
    let divergences = MetricsSupport.jensenShannonRows(
        MetricsSupport.softmaxRows(aLogits), MetricsSupport.softmaxRows(bLogits), rows: rows, classes: classes)
    return divergences.reduce(0, +) / Double(rows)
}

/// The zero retrain forgetting score of Chundawat et al., "Can Bad Teaching Induce Forgetting?" (AAAI 2023):
/// 1 − mean over rows of JS(softmax(model), softmax(randomModel)), where the random model is a randomly initialised
/// network of the same architecture evaluated on the same (forget-set) samples.
///
/// In [1 − ln 2, 1]; 1 means the model's outputs are indistinguishable from a random model's (complete forgetting).
public func zrfScore(modelLogits: Tensor, randomModelLogits: Tensor) -> Double {
    1 - meanJensenShannon(modelLogits, randomModelLogits)
}

/// Activation distance: the mean over rows of the L2 distance between softmax(aLogits) and softmax(bLogits),
/// e.g. between an unlearned model and a retrained reference. In [0, √2]; 0 means identical outputs.
public func activationDistance(_ aLogits: Tensor, _ bLogits: Tensor) -> Double {
    let (rows, classes) = MetricsSupport.matchingMatrices(aLogits, bLogits, "activationDistance")
    precondition(rows > 0, "activationDistance needs at least one row")
    let p = MetricsSupport.softmaxRows(aLogits)
    let q = MetricsSupport.softmaxRows(bLogits)
    var total = 0.0
    for row in 0..<rows {
        var squared = 0.0
        for index in (row * classes)..<((row + 1) * classes) {
            squared += (p[index] - q[index]) * (p[index] - q[index])
        }
        total += squared.squareRoot()
    }
    return total / Double(rows)
}

/// Row-wise softmax arithmetic in Double, shared by the metrics.
enum MetricsSupport {
    /// The rows and columns of two [N, C] matrices of equal shape.
    static func matchingMatrices(_ a: Tensor, _ b: Tensor, _ caller: String) -> (rows: Int, classes: Int) {
        precondition(
            a.rank == 2 && a.shape == b.shape, "\(caller) needs two [N, C] matrices, got \(a.shape), \(b.shape)")
        return (a.shape[0], a.shape[1])
    }

    /// Jensen–Shannon divergence of each row of two row-major [rows, classes] probability matrices.
    static func jensenShannonRows(_ p: [Double], _ q: [Double], rows: Int, classes: Int) -> [Double] {
        (0..<rows).map { row in
            var total = 0.0
            for index in (row * classes)..<((row + 1) * classes) {
                let (pi, qi) = (p[index], q[index])
                let mi = (pi + qi) / 2
                if pi > 0 { total += pi * log(pi / mi) }
                if qi > 0 { total += qi * log(qi / mi) }
            }
            return max(0, total / 2)
        }
    }

    /// Numerically stable log-softmax of each row of [N, C] logits, row-major.
    static func logSoftmaxRows(_ logits: Tensor) -> [Double] {
        precondition(logits.rank == 2, "needs [N, C] logits, got \(logits.shape)")
        let (rows, classes) = (logits.shape[0], logits.shape[1])
        var result = logits.scalars.map { Double($0) }
        for row in 0..<rows {
            let range = (row * classes)..<((row + 1) * classes)
            let largest = result[range].max() ?? 0
            let logTotal = log(result[range].reduce(0) { $0 + exp($1 - largest) }) + largest
            for index in range { result[index] -= logTotal }
        }
        return result
    }

    /// Softmax of each row of [N, C] logits, row-major.
    static func softmaxRows(_ logits: Tensor) -> [Double] {
        logSoftmaxRows(logits).map { exp($0) }
    }
}
