import NN
import Tensor

/// `random-label` (Graves et al., "Amnesiac Machine Learning"): relabel every forget sample with a random
/// other class and train on those pairs together with (a seeded subset of) the retain set.
public struct RandomLabel: UnlearningMethod {
    public let name = "random-label"
    public let summary = "Train on the forget samples relabelled at random, mixed with retain samples."
    public let parameters: [MethodParameters.Declaration] = [
        .init("epochs", "1", "Epochs", .count(1...UnlearningLimits.epochs)),
        .init("lr", "0.005", "SGD learning rate", .positive),
        .init("batch-size", "128", "Minibatch size", .batchSize),
        .init("retain-fraction", "0.2", "Seeded fraction of the retain set mixed in per epoch", .fraction),
    ]

    public init() {}

    public func plan(for problem: UnlearningProblem) throws -> Plan {
        let p = problem.parameters
        let retainFraction = try p.fraction("retain-fraction", allowingZero: true)
        let classes = problem.train.classCount
        var generator = SeededGenerator(seed: problem.seed, stream: "random-labels")
        let randomLabels = problem.forgetSet.forget.map { index in
            let label = problem.train.labels[index]
            return (label + 1 + generator.nextInt(below: classes - 1)) % classes
        }
        var phases: [any PlanPhase] = []
        for epoch in 0..<max(p.int("epochs"), 0) {
            let retain = problem.retainSubset(fraction: retainFraction, draw: "random-label-\(epoch)")
            let batches = MixedBatches(
                sources: [
                    BatchSource(
                        inputs: .samples, items: problem.forgetSet.forget, labels: randomLabels,
                        losses: [.crossEntropy(weight: 1)]),
                    BatchSource(
                        inputs: .samples, items: retain, labels: problem.labels(of: retain),
                        losses: [.crossEntropy(weight: 1)]),
                ], batchSize: p.int("batch-size"), seed: problem.seed("random-label-\(epoch)"))
            phases.append(
                GradientPhase(name: "random-label epoch \(epoch + 1)", steps: batches.count, optimizer: "sgd") {
                    step, _ in batches.step(step, seed: problem.seed("random-label-\(epoch)-\(step)"))
                })
        }
        return Plan(phases: phases) { ["sgd": SGD(learningRate: p.float("lr"), momentum: 0.9, weightDecay: 5e-4)] }
    }
}

/// `scrub-and-learn` (sub-maximum one-hot re-encoding): relabel every forget sample with the original
/// model's highest-scoring class other than its label and the other forgotten classes, and fine-tune on those
/// pairs only. (Relabelling a T-shirt as a shirt while forgetting both would only teach one forgotten class
/// as the other.) It applies to class and confusion selections: teaching a random subset wrong classes teaches
/// the model wrong classes.
public struct SCRUBAndLearn: UnlearningMethod {
    public let name = "scrub-and-learn"
    public let summary = "Fine-tune on the forget samples relabelled with their runner-up class."
    public let parameters: [MethodParameters.Declaration] = [
        .init("epochs", "1", "Epochs over the forget set", .count(1...UnlearningLimits.epochs)),
        .init("lr", "0.0002", "SGD learning rate", .positive),
        .init("batch-size", "64", "Minibatch size", .batchSize),
    ]

    public init() {}

    public func plan(for problem: UnlearningProblem) throws -> Plan {
        switch problem.forgetSet.selection {
        case .classes, .confusion: break
        case .fraction, .indices, .targetRange:
            throw MethodNotApplicable(
                "scrub-and-learn teaches every forget sample another class, which suits whole classes (--forget-classes) and mislabelled samples (--confuse-classes); on a random subset or listed samples it ruins the model (38% test accuracy after a random 10%); use scrub, neggrad+ or finetune"
            )
        }
        let p = problem.parameters
        let forget = problem.forgetSet.forget
        let forgotten = Set(problem.forgetSet.forgottenClasses ?? [])
        let relabel = PredictionPhase(
            name: "runner-up labels", request: { _ in PredictionRequest(subject: .frozen(.original), indices: forget) },
            keep: { predictions, state in
                state.labels["relabelled"] = SCRUBAndLearn.runnerUp(
                    predictions.logits, excluding: predictions.labels, forgotten: forgotten)
            })
        var phases: [any PlanPhase] = [relabel]
        for epoch in 0..<max(p.int("epochs"), 0) {
            let batches = problem.batches(of: Array(forget.indices), size: p.int("batch-size"), draw: "learn-\(epoch)")
            phases.append(
                GradientPhase(name: "relabelled epoch \(epoch + 1)", steps: batches.count, optimizer: "sgd") {
                    step, state in
                    let positions = batches[step]  // into the forget set, whose new labels the first phase chose
                    let labels = state.labels["relabelled"]!
                    return GradientStep(
                        parts: [
                            BatchPart(
                                inputs: .samples(positions.map { forget[$0] }), labels: positions.map { labels[$0] },
                                losses: [.crossEntropy(weight: 1)])
                        ], seed: problem.seed("learn-\(epoch)-\(step)"))
                })
        }
        return Plan(phases: phases) { ["sgd": SGD(learningRate: p.float("lr"), momentum: 0.9, weightDecay: 5e-4)] }
    }

    /// Each row's highest-scoring class other than `excluding[row]` and the `forgotten` classes (only the row's
    /// label is skipped when every other class is forgotten).
    static func runnerUp(_ logits: Tensor, excluding labels: [Int], forgotten: Set<Int> = []) -> [Int] {
        let classes = logits.shape[1]
        return logits.withUnsafeBufferPointer { z in
            labels.enumerated().map { row, label in
                let others = (0..<classes).filter { $0 != label }
                let kept = others.filter { !forgotten.contains($0) }
                return (kept.isEmpty ? others : kept).max { z[row * classes + $0] < z[row * classes + $1] }!
            }
        }
    }
}
