import Data
import Foundation
import NN
import Tensor

/// `ssd` (Foster et al., "Fast Machine Unlearning Without Retraining Through Selective Synaptic Dampening",
/// AAAI 2024): no gradient steps. Diagonal Fisher importances — the mean over minibatches of the squared
/// minibatch gradient — on the forget set (I_f) and on the whole training set (I_D); every parameter with
/// I_f > α·I_D is multiplied by min(λ·I_D/I_f, 1).
///
/// No single α suits every forget set of `fmnist-cnn` (docs/RESULTS.md): the paper's α = 10 wrecks the other
/// classes when forgetting class 0, where α = 100 is best, yet α = 100 leaves two forgotten classes 80%
/// recognised. So `alpha=auto` (the default) searches (`SSDAlphaSearch`); a number fixes α. Without a forget
/// target to search for (listed or random samples and no validation split), auto uses the first candidate.
public struct SSD: UnlearningMethod {
    public let name = "ssd"
    public let summary = "Dampen the parameters far more important to the forget set than to the training set."
    public let parameters: [MethodParameters.Declaration] = [
        .init("alpha", "auto", "Selection threshold α (dampen where I_f > α·I_D), or auto: see alpha-candidates"),
        .init("alpha-candidates", "100:50:30:20:15:10:8:7:6:5:4:3", "α values alpha=auto tries, gentlest first"),
        .init("lambda", "1.0", "Dampening strength λ: multiply by min(λ·I_D/I_f, 1)", .positive),
        .init("batch-size", "128", "Minibatch size of the importance passes", .batchSize),
        .init(
            "check-samples", "2000", "Seeded forget and retain samples on which alpha=auto checks each α",
            .count(1...UnlearningLimits.samples)),
        .init(
            "stop-accuracy", "-1.0", "Forget accuracy alpha=auto must get below (-1: the forget target)",
            .automaticOr(.unitInterval)),
        .init(
            "max-retain-drop", "0.05",
            "Retain accuracy the result may lose; under alpha=auto also what any retained class of the checked retain samples may lose (0.05: 5 points)",
            .unitInterval),
    ]

    public init() {}

    public func plan(for problem: UnlearningProblem) throws -> Plan {
        let p = problem.parameters
        let lambda = p.float("lambda")
        let candidates = try alphas(p)
        guard lambda > 0, p.int("batch-size") >= 1, p.int("check-samples") >= 1, p.float("max-retain-drop") >= 0
        else {
            throw MethodParameterError.outOfRange(
                "lambda must be > 0, batch-size and check-samples ≥ 1, max-retain-drop ≥ 0")
        }
        let everything = (problem.forgetSet.forget + problem.forgetSet.retain).sorted()
        let importances: [any PlanPhase] = [
            ImportancePhase(
                name: "forget importance", key: "importance.forget", problem: problem,
                indices: problem.forgetSet.forget, batchSize: p.int("batch-size")),
            ImportancePhase(
                name: "training-set importance", key: "importance.full", problem: problem, indices: everything,
                batchSize: p.int("batch-size")),
        ]
        let target = candidates.count > 1 ? ForgetTarget.phases(for: problem, override: p.float("stop-accuracy")) : []
        guard !target.isEmpty else {
            return Plan(phases: importances + [dampenPhase(alpha: candidates[0], lambda: lambda)])
        }
        let search = SSDAlphaSearch(
            problem: problem, candidates: candidates, checkSamples: p.int("check-samples"),
            maxRetainDrop: Double(p.float("max-retain-drop")))
        return Plan(phases: importances + target + search.phases { self.dampenPhase(alpha: $0, lambda: lambda) })
    }

    /// The state scalar that holds the α the run dampened with.
    public static let chosenAlpha = "ssd.chosen-alpha"
    /// The state scalars that hold, for the α `alpha=auto` kept, the accuracy on the checked forget samples, the
    /// accuracy the checked retain samples lost, and the retained class that lost the most, with its loss.
    public static let checkedForgetAccuracy = "ssd.checked-forget-accuracy"
    public static let checkedRetainDrop = "ssd.checked-retain-drop"
    public static let checkedWorstClass = "ssd.checked-worst-class"
    public static let checkedWorstClassDrop = "ssd.checked-worst-class-drop"

    static func format(_ alpha: Float) -> String { String(format: "%g", alpha) }

    private func alphas(_ p: MethodParameters) throws -> [Float] {
        let alpha = p.string("alpha")
        let values =
            alpha == "auto"
            ? p.string("alpha-candidates").split(separator: ":").map { Float($0.trimmingCharacters(in: .whitespaces)) }
            : [Float(alpha)]
        guard !values.isEmpty, values.allSatisfy({ ($0 ?? 0) > 0 && $0!.isFinite }) else {
            throw MethodParameterError.outOfRange(
                "alpha must be auto or a number > 0, alpha-candidates numbers > 0 separated by ':'")
        }
        return values.map { $0! }
    }

    /// Dampens the student with `alpha` and records it.
    private func dampenPhase(alpha: Float, lambda: Float) -> LocalPhase {
        LocalPhase(name: "dampen (α \(Self.format(alpha)))") { state in
            var dampened = 0
            for (name, parameter) in state.student.namedParameters {
                let forget = state.tensors["importance.forget/\(name)"]!
                let full = state.tensors["importance.full/\(name)"]!
                dampened += SSD.dampen(&parameter.value, forget: forget, full: full, alpha: alpha, lambda: lambda)
            }
            state.scalars["dampened-parameters"] = Double(dampened)
            state.scalars[Self.chosenAlpha] = Double(alpha)
        }
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
/// plan state as `key/<parameter name>`. The student is not changed. Its batches run in evaluation mode, where
/// no layer draws random numbers, so its outcome is reusable by later runs on the same original.
struct ImportancePhase: ReusablePhase {
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

    var outputPrefix: String { key }
    var identity: String {
        "squared-gradient importance v1, key \(key), batches "
            + batches.map { $0.map(String.init).joined(separator: ",") }.joined(separator: ";")
    }

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
