import Foundation
import NN
import Tensor

/// A loss component evaluated on one part's rows of a shard.
struct LossTermResult {
    /// Σ over the rows (unweighted).
    var value: Float
    /// Sum-reduced ∂value/∂logits of the part's rows.
    var logitsGradient: Tensor?
    /// ∂value/∂features for whole-shard feature tensors (zero outside the part's rows), by layer path.
    var featureGradients: [String: Tensor] = [:]
    /// ∂value/∂inputs of the part's rows through the teacher, when the step differentiates its inputs.
    var teacherInputGradient: Tensor?
}

/// What a frozen model computes on one part's inputs, computed at most once per shard.
final class TeacherOutputs {
    private let images: Tensor
    private let layers: Set<String>
    private let frozen: (FrozenModel) -> Model
    private var cache: [FrozenModel: (logits: Tensor, features: [String: Tensor])] = [:]

    init(images: Tensor, layers: Set<String>, frozen: @escaping (FrozenModel) -> Model) {
        self.images = images
        self.layers = layers
        self.frozen = frozen
    }

    func callAsFunction(_ model: FrozenModel) -> (logits: Tensor, features: [String: Tensor]) {
        if let cached = cache[model] { return cached }
        let tap = layers.isEmpty ? nil : FeatureTap(paths: layers)
        let logits = frozen(model).forward(images, mode: .inference, tap: tap)
        let output = (logits: logits, features: tap?.features ?? [:])
        cache[model] = output
        return output
    }

    /// ∂/∂images of Σ logits ⊙ `logitsGradient` through frozen `model` (its forward pass run again, keeping
    /// what the backward pass needs, since another part may have run the shared model since).
    func inputGradient(_ model: FrozenModel, logitsGradient: Tensor) -> Tensor {
        let network = frozen(model)
        _ = network.forward(images, mode: .eval)
        defer { network.zeroGradients() }
        return network.backward(logitsGradient, inputGradient: true)
    }
}

enum LossTerms {
    /// `throughTeacher`: also differentiate through the teacher (for steps that learn their inputs).
    static func evaluate(
        _ component: LossComponent, studentLogits: Tensor, labels: [Int], teacher: TeacherOutputs, tap: FeatureTap?,
        rows: Range<Int>, part: PartRows, throughTeacher: Bool = false
    ) -> LossTermResult {
        switch component {
        case .absoluteError, .squaredError:
            return RegressionTerms.error(component, studentOutputs: studentLogits, part: part)
        case .attentionToMaps(let maps, let mapRows, let layers, _):
            return RegressionTerms.attentionToMaps(
                maps: maps, rows: mapRows, layers: layers, tap: tap, shardRows: rows, part: part)
        case .crossEntropy:
            let result = crossEntropy(logits: studentLogits, labels: labels, reduction: .sum)
            return LossTermResult(value: result.value, logitsGradient: result.gradient)
        case .distillation(let model, let temperature, _):
            let teacherLogits = teacher(model).logits
            let result = klDivergence(
                student: studentLogits, teacher: teacherLogits, temperature: temperature, reduction: .sum)
            let teacherInputGradient =
                throughTeacher
                ? teacher.inputGradient(
                    model,
                    logitsGradient: klDivergenceTeacherGradient(
                        student: studentLogits, teacher: teacherLogits, temperature: temperature)) : nil
            return LossTermResult(
                value: result.value, logitsGradient: result.gradient, teacherInputGradient: teacherInputGradient)
        case .storedDistillation(let logits, let logitRows, let temperature, _):
            let result = klDivergence(
                student: studentLogits, teacher: part.stored(logits, rows: logitRows), temperature: temperature,
                reduction: .sum)
            return LossTermResult(value: result.value, logitsGradient: result.gradient)
        case .featureMatching(let model, let layers, _):
            return featureTerm(layers, teacher: teacher(model).features, tap: tap) { student, teacher in
                normalizedFeatureDistance(student: student, rows: rows, teacher: teacher)
            }
        case .attentionTransfer(let model, let layers, _):
            return featureTerm(layers, teacher: teacher(model).features, tap: tap) { student, teacher in
                let result = attentionTransfer(
                    student: student.slice(rows: rows), teacher: teacher, reduction: .sum)
                var gradient = Tensor(zeros: student.shape)
                gradient.addRows(result.gradient, at: rows.lowerBound)
                return (result.value, gradient)
            }
        }
    }

    /// Σ over `layers` of a distance between the student's whole-shard features and the teacher's part features.
    private static func featureTerm(
        _ layers: [String], teacher: [String: Tensor], tap: FeatureTap?,
        distance: (_ student: Tensor, _ teacher: Tensor) -> (Float, Tensor)
    ) -> LossTermResult {
        var total: Float = 0
        var gradients: [String: Tensor] = [:]
        for layer in layers {
            guard let studentFeatures = tap?.features[layer], let teacherFeatures = teacher[layer] else {
                preconditionFailure("the model has no layer '\(layer)' to match features at")
            }
            let (value, gradient) = distance(studentFeatures, teacherFeatures)
            total += value
            gradients[layer] = gradient
        }
        return LossTermResult(value: total, logitsGradient: nil, featureGradients: gradients)
    }

    /// Σ_rows ‖t/‖t‖ − s/‖s‖‖² between student rows `rows` (of the whole shard's features) and the teacher's
    /// rows, with the gradient for the student's whole-shard feature tensor.
    static func normalizedFeatureDistance(student: Tensor, rows: Range<Int>, teacher: Tensor) -> (Float, Tensor) {
        let rowSize = student.count / max(student.shape[0], 1)
        var gradient = Tensor(zeros: student.shape)
        var total: Float = 0
        student.withUnsafeBufferPointer { s in
            teacher.withUnsafeBufferPointer { t in
                gradient.withUnsafeMutableBufferPointer { g in
                    for (teacherRow, row) in rows.enumerated() {
                        let sBase = row * rowSize
                        let tBase = teacherRow * rowSize
                        var (sNorm, tNorm): (Float, Float) = (0, 0)
                        for i in 0..<rowSize {
                            sNorm += s[sBase + i] * s[sBase + i]
                            tNorm += t[tBase + i] * t[tBase + i]
                        }
                        sNorm = max(sNorm.squareRoot(), 1e-12)
                        tNorm = max(tNorm.squareRoot(), 1e-12)
                        var (distance, alignment): (Float, Float) = (0, 0)  // ‖v − u‖², vᵀu
                        for i in 0..<rowSize {
                            let (v, u) = (s[sBase + i] / sNorm, t[tBase + i] / tNorm)
                            distance += (v - u) * (v - u)
                            alignment += v * u
                        }
                        total += distance
                        // ∂/∂s ‖v − u‖² with v = s/‖s‖ is (2/‖s‖)·(v·(vᵀu) − u).
                        for i in 0..<rowSize {
                            let (v, u) = (s[sBase + i] / sNorm, t[tBase + i] / tNorm)
                            g[sBase + i] = 2 / sNorm * (v * alignment - u)
                        }
                    }
                }
            }
        }
        return (total, gradient)
    }
}
