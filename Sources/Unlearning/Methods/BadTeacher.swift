import NN

/// `bad-teacher` (Chundawat et al., "Can Bad Teaching Induce Forgetting?", AAAI 2023): the student starts as
/// the original and distils, per sample, from the original (retain samples) or from a randomly initialised
/// model (forget samples).
public struct BadTeacher: UnlearningMethod {
    public let name = "bad-teacher"
    public let summary = "Distil retain samples from the original and forget samples from a random model."
    public let parameters: [MethodParameters.Declaration] = [
        .init("epochs", "1", "Epochs", .count(1...UnlearningLimits.epochs)),
        .init("lr", "0.001", "Adam learning rate", .positive),
        .init("batch-size", "256", "Minibatch size", .batchSize),
        .init("temperature", "1.0", "Distillation temperature", .positive),
        .init("retain-fraction", "0.3", "Seeded fraction of the retain set mixed in", .fraction),
    ]

    public init() {}

    public func plan(for problem: UnlearningProblem) throws -> Plan {
        let p = problem.parameters
        let retainFraction = try p.fraction("retain-fraction", allowingZero: true)
        let temperature = p.float("temperature")
        let incompetent = FrozenModel.randomInitialization(seed: problem.seed("incompetent-teacher"))
        var phases: [any PlanPhase] = []
        for epoch in 0..<max(p.int("epochs"), 0) {
            let forget = problem.forgetSet.forget
            let retain = problem.retainSubset(fraction: retainFraction, draw: "bad-teacher-\(epoch)")
            let batches = MixedBatches(
                sources: [
                    BatchSource(
                        inputs: .samples, items: forget, labels: problem.labels(of: forget),
                        losses: [.distillation(teacher: incompetent, temperature: temperature, weight: 1)]),
                    BatchSource(
                        inputs: .samples, items: retain, labels: problem.labels(of: retain),
                        losses: [.distillation(teacher: .original, temperature: temperature, weight: 1)]),
                ], batchSize: p.int("batch-size"), seed: problem.seed("bad-teacher-\(epoch)"))
            phases.append(
                GradientPhase(name: "bad-teacher epoch \(epoch + 1)", steps: batches.count, optimizer: "adam") {
                    step, _ in batches.step(step, seed: problem.seed("bad-teacher-\(epoch)-\(step)"))
                })
        }
        return Plan(phases: phases) { ["adam": Adam(learningRate: p.float("lr"))] }
    }
}
