import Data
import NN
import Tensor

/// `ssd` (Foster et al., "Fast Machine Unlearning Without Retraining Through Selective Synaptic Dampening",
/// AAAI 2024): no gradient steps. Diagonal Fisher importances — the mean over minibatches of the squared
/// minibatch gradient — on the forget set (I_f) and on the whole training set (I_D); every parameter with
/// I_f > α·I_D is multiplied by min(λ·I_D/I_f, 1). The paper's α = 10 wrecks the other classes of
/// `fmnist-cnn`; α = 100 was the best trade-off on the validation split for one class (docs/RESULTS.md).
public struct SSD: UnlearningMethod {
    public let name = "ssd"
    public let summary = "Dampen the parameters far more important to the forget set than to the training set."
    public let parameters: [MethodParameters.Declaration] = [
        .init("alpha", "100.0", "Selection threshold α: dampen where I_f > α·I_D"),
        .init("lambda", "1.0", "Dampening strength λ: multiply by min(λ·I_D/I_f, 1)"),
        .init("batch-size", "128", "Minibatch size of the importance passes"),
    ]

    public init() {}

    public func plan(for problem: UnlearningProblem) throws -> Plan {
        let p = problem.parameters
        let (alpha, lambda) = (p.float("alpha"), p.float("lambda"))
        guard alpha > 0, lambda > 0, p.int("batch-size") >= 1 else {
            throw MethodParameterError.outOfRange("alpha and lambda must be > 0, batch-size ≥ 1")
        }
        let everything = (problem.forgetSet.forget + problem.forgetSet.retain).sorted()
        return Plan(phases: [
            ImportancePhase(
                name: "forget importance", key: "importance.forget", problem: problem,
                indices: problem.forgetSet.forget, batchSize: p.int("batch-size")),
            ImportancePhase(
                name: "training-set importance", key: "importance.full", problem: problem, indices: everything,
                batchSize: p.int("batch-size")),
            LocalPhase(name: "dampen") { state in
                var dampened = 0
                for (name, parameter) in state.student.namedParameters {
                    let forget = state.tensors["importance.forget/\(name)"]!
                    let full = state.tensors["importance.full/\(name)"]!
                    dampened += SSD.dampen(&parameter.value, forget: forget, full: full, alpha: alpha, lambda: lambda)
                }
                state.scalars["dampened-parameters"] = Double(dampened)
            },
        ])
    }

    /// Multiplies the selected entries of `weights` by min(λ·I_D/I_f, 1); returns how many it selected.
    static func dampen(_ weights: inout Tensor, forget: Tensor, full: Tensor, alpha: Float, lambda: Float) -> Int {
        var selected = 0
        weights.withUnsafeMutableBufferPointer { w in
            forget.withUnsafeBufferPointer { f in
                full.withUnsafeBufferPointer { d in
                    for i in 0..<w.count where f[i] > alpha * d[i] {
                        w[i] *= min(lambda * d[i] / f[i], 1)
                        selected += 1
                    }
                }
            }
        }
        return selected
    }
}

/// Mean over minibatches of the squared minibatch gradient of the cross-entropy, per parameter, kept in the
/// plan state as `key/<parameter name>`. The student is not changed.
struct ImportancePhase: PlanPhase {
    let name: String
    let key: String
    let batches: [[Int]]
    let labels: [Int]
    let seed: UInt64

    init(name: String, key: String, problem: UnlearningProblem, indices: [Int], batchSize: Int) {
        self.name = name
        self.key = key
        batches = BatchSchedule.batches(indices: indices, batchSize: batchSize, seed: 0, epoch: 0, shuffle: false)
        labels = problem.train.labels
        seed = problem.seed(key)
    }

    var stepCount: Int { batches.count }

    func work(at step: Int, _ state: PlanState) throws -> Work {
        let batch = batches[step]
        return .gradient(
            GradientStep(
                parts: [
                    BatchPart(
                        inputs: .samples(batch), labels: batch.map { labels[$0] }, losses: [.crossEntropy(weight: 1)])
                ],
                isTraining: false, seed: seed))
    }

    func finish(step: Int, result: WorkResult, _ state: PlanState) throws -> PhaseControl {
        for (name, parameter) in state.student.namedParameters {
            let tensorName = "\(key)/\(name)"
            var total = state.tensors[tensorName] ?? Tensor(zeros: parameter.grad.shape)
            total.withUnsafeMutableBufferPointer { t in
                parameter.grad.withUnsafeBufferPointer { g in
                    for i in 0..<t.count { t[i] += g[i] * g[i] }
                }
            }
            if step == stepCount - 1 { total.scale(by: 1 / Float(stepCount)) }
            state.tensors[tensorName] = total
        }
        return .proceed
    }
}
