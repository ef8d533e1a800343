import Data
import NN
import Tensor

/// `gaussian` — the Deep Regression Unlearning paper's Gaussian fine-tuning baseline (its "Gaussian amnesiac
/// learning"): the forget samples' targets are replaced by seeded noisy ones, target + σ·N(0, 1), and the
/// original is fine-tuned (Adam, L1) for an epoch on the whole training set with those targets, so the forget set
/// loses what tied it to its true values. σ defaults to the standard deviation of the training targets.
public struct GaussianAmnesiac: UnlearningMethod {
    public let tasks: Set<LearningTask> = [.regression]
    public let name = "gaussian"
    public let summary = "Regression: fine-tune on everything with the forget targets replaced by Gaussian noise."
    public let parameters: [MethodParameters.Declaration] = [
        .init(
            "sigma", "-1.0", "σ of the noise added to forget targets (-1: the targets' std)", .automaticOr(.positive)),
        .init("epochs", "1", "Epochs over the training set", .count(1...UnlearningLimits.epochs)),
        .init("lr", "0.001", "Adam learning rate", .positive),
        .init("batch-size", "256", "Minibatch size", .batchSize),
    ]

    static let noisyTargets = "gaussian.targets"
    static let optimizer = "gaussian adam"

    public init() {}

    public func plan(for problem: UnlearningProblem) throws -> Plan {
        try RegressionOnly.check(problem, method: name)
        let p = problem.parameters
        let train = problem.train
        let forget = problem.forgetSet.forget
        let sigma =
            p.float("sigma") > 0
            ? p.float("sigma") : Self.standardDeviation(train.targets(of: problem.forgetSet.retain + forget))
        var phases: [any PlanPhase] = [
            LocalPhase(name: "noisy forget targets") { state in
                var generator = SeededGenerator(seed: problem.seed, stream: "gaussian-targets")
                let noise = Tensor.normal(
                    shape: [forget.count, train.targets!.shape[1]], std: sigma, using: &generator)
                state.tensors[Self.noisyTargets] = train.targets(of: forget) + noise
            }
        ]
        let rowOf = Dictionary(uniqueKeysWithValues: forget.enumerated().map { ($1, $0) })
        let everything = (problem.forgetSet.retain + forget).sorted()
        for epoch in 0..<p.int("epochs") {
            let batches = problem.batches(of: everything, size: p.int("batch-size"), draw: "gaussian-\(epoch)")
            phases.append(
                GradientPhase(name: "fine-tune epoch \(epoch + 1)", steps: batches.count, optimizer: Self.optimizer) {
                    step, _ in
                    let batch = batches[step]
                    let retain = batch.filter { rowOf[$0] == nil }
                    let noisy = batch.filter { rowOf[$0] != nil }
                    var parts: [BatchPart] = []
                    if !retain.isEmpty {
                        parts.append(
                            BatchPart(
                                inputs: .samples(retain), labels: problem.labels(of: retain),
                                losses: [.absoluteError(target: .dataset, weight: 1)]))
                    }
                    if !noisy.isEmpty {
                        let target = RegressionTarget.tensorRows(
                            name: Self.noisyTargets, rows: noisy.map { rowOf[$0]! })
                        parts.append(
                            BatchPart(
                                inputs: .samples(noisy), labels: problem.labels(of: noisy),
                                losses: [.absoluteError(target: target, weight: 1)]))
                    }
                    return GradientStep(parts: parts, seed: problem.seed("gaussian-\(epoch)-\(step)"))
                })
        }
        return Plan(phases: phases) { [Self.optimizer: Adam(learningRate: p.float("lr"))] }
    }

    /// The standard deviation of all the values of `targets` (1 when they do not vary).
    static func standardDeviation(_ targets: Tensor) -> Float {
        let n = Double(max(targets.count, 1))
        let mean = targets.sum() / n
        let variance = targets.scalars.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / n
        return variance > 0 ? Float(variance.squareRoot()) : 1
    }
}
