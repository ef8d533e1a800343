import NN

/// `neggrad`: gradient ascent on the forget set's cross-entropy, stopped once a forget batch scores below
/// the forget target (plain ascent is unbounded and diverges otherwise).
public struct NegGrad: UnlearningMethod {
    public let name = "neggrad"
    public let summary = "Gradient ascent on the forget set."
    public let parameters: [MethodParameters.Declaration] = [
        .init("epochs", "1", "Epochs over the forget set", .count(1...UnlearningLimits.epochs)),
        .init("lr", "0.0005", "SGD learning rate", .positive),
        .init("batch-size", "64", "Forget minibatch size", .batchSize),
        .init("clip", "5.0", "Clip the gradient to this global L2 norm (0: off)", .nonNegative),
        .init(
            "stop-accuracy", "-1.0", "Stop below this forget batch accuracy (-1: automatic)",
            .automaticOr(.unitInterval)),
    ]

    public init() {}

    public func plan(for problem: UnlearningProblem) throws -> Plan {
        let p = problem.parameters
        guard p.int("epochs") >= 1, p.int("batch-size") >= 1 else {
            throw MethodParameterError.outOfRange("epochs and batch-size must be ≥ 1")
        }
        var phases = ForgetTarget.phases(for: problem, override: p.float("stop-accuracy"))
        for epoch in 0..<p.int("epochs") {
            let batches = problem.batches(
                of: problem.forgetSet.forget, size: p.int("batch-size"), draw: "ascent-\(epoch)")
            phases.append(
                GradientPhase(
                    name: "ascent epoch \(epoch + 1)", steps: batches.count, optimizer: "sgd",
                    clipNorm: p.positiveOrOff("clip"),
                    makeStep: { step, _ in
                        problem.step(
                            over: batches[step], losses: [.crossEntropy(weight: -1)], seed: "ascent-\(epoch)-\(step)"
                        )
                    }, stopWhen: { outcome, state in ForgetTarget.reached(outcome, state) }))
        }
        let optimizer = SGD(learningRate: p.float("lr"), momentum: 0.9, weightDecay: 5e-4)
        return Plan(phases: phases) { ["sgd": optimizer] }
    }
}

/// `neggrad+`: α·CE(retain batch) − (1 − α)·CE(forget batch) per step, forget batches cycled.
public struct NegGradPlus: UnlearningMethod {
    public let tasks: Set<LearningTask> = [.classification, .regression]
    public let name = "neggrad+"
    public let summary = "Descent on retain batches combined with ascent on (cycled) forget batches."
    public let parameters: [MethodParameters.Declaration] = [
        .init("epochs", "1", "Epochs over the retain subset", .count(1...UnlearningLimits.epochs)),
        .init("alpha", "0.99", "Weight of the retain term (the forget term gets 1 − alpha)", .unitInterval),
        .init("lr", "0.005", "SGD learning rate", .positive),
        .init("retain-batch", "128", "Retain minibatch size", .batchSize),
        .init("forget-batch", "64", "Forget minibatch size", .batchSize),
        .init("retain-fraction", "0.2", "Seeded fraction of the retain set visited per epoch", .fraction),
        .init("clip", "5.0", "Clip the gradient to this global L2 norm (0: off)", .nonNegative),
    ]

    public init() {}

    public func plan(for problem: UnlearningProblem) throws -> Plan {
        let p = problem.parameters
        let alpha = p.float("alpha")
        guard alpha >= 0 && alpha <= 1 else { throw MethodParameterError.outOfRange("alpha must be in [0, 1]") }
        let retainFraction = try p.fraction("retain-fraction")
        var phases: [any PlanPhase] = []
        for epoch in 0..<max(p.int("epochs"), 0) {
            let retain = problem.retainSubset(fraction: retainFraction, draw: "neggrad+-\(epoch)")
            let retainBatches = problem.batches(of: retain, size: p.int("retain-batch"), draw: "retain-\(epoch)")
            let forgetBatches = problem.batches(
                of: problem.forgetSet.forget, size: p.int("forget-batch"), draw: "forget-\(epoch)")
            phases.append(
                GradientPhase(
                    name: "neggrad+ epoch \(epoch + 1)", steps: retainBatches.count, optimizer: "sgd",
                    clipNorm: p.positiveOrOff("clip")
                ) { step, _ in
                    let (retain, forget) = (retainBatches[step], forgetBatches[step % forgetBatches.count])
                    return GradientStep(
                        parts: [
                            BatchPart(
                                inputs: .samples(retain), labels: problem.labels(of: retain),
                                losses: [problem.taskLoss(weight: alpha / Float(retain.count))]),
                            BatchPart(
                                inputs: .samples(forget), labels: problem.labels(of: forget),
                                losses: [problem.taskLoss(weight: -(1 - alpha) / Float(forget.count))]),
                        ], normalizer: 1, seed: problem.seed("neggrad+-\(epoch)-\(step)"))
                })
        }
        let optimizer = SGD(learningRate: p.float("lr"), momentum: 0.9, weightDecay: 5e-4)
        return Plan(phases: phases) { ["sgd": optimizer] }
    }
}
