import NN
import Tensor

/// `unsir` (Tarun et al., "Fast Yet Effective Machine Unlearning", IEEE TNNLS 2023): class forgetting without
/// touching the forget samples. Per forgotten class, learn an error-maximising noise batch N against the
/// frozen original (Adam; loss −CE(f(N), c) + λ·mean‖N‖²). Impair: one epoch, Adam, on copies of the noise
/// (labelled with its class) mixed with a small retain subset; repair: one epoch on the retain subset alone.
///
/// With `zero-shot=true` (Chundawat et al., "Zero-Shot Machine Unlearning") no training sample is used at
/// all: the retain subset is replaced by error-minimising noise ("class impressions") learned per retained
/// class the same way, with +CE.
public struct UNSIR: UnlearningMethod {
    public let name = "unsir"
    public let summary = "Impair with learned error-maximising noise for the forgotten classes, then repair."
    public let parameters: [MethodParameters.Declaration] = [
        .init("noise-batch", "256", "Noise samples learned per class", .batchSize),
        .init("noise-steps", "40", "Adam steps learning each noise batch", .count(1...UnlearningLimits.steps)),
        .init("noise-lr", "0.1", "Adam learning rate of the noise", .positive),
        .init("noise-lambda", "0.1", "Weight λ of the noise's mean squared norm", .nonNegative),
        .init("copies", "5", "Copies of each noise batch in the impair epoch", .count(1...100)),
        .init(
            "retain-per-class", "1000", "Retain samples per retained class (seeded)",
            .count(1...UnlearningLimits.samples)),
        .init("impair-lr", "0.001", "Adam learning rate of the impair epoch", .positive),
        .init("repair-lr", "0.001", "Adam learning rate of the repair epoch", .positive),
        .init("batch-size", "256", "Minibatch size of impair and repair", .batchSize),
        .init("zero-shot", "false", "Use no training samples: learn class impressions instead of a retain subset"),
    ]

    public init() {}

    public func plan(for problem: UnlearningProblem) throws -> Plan {
        guard let forgotten = problem.forgetSet.forgottenClasses else {
            throw MethodNotApplicable(
                "unsir forgets whole classes (it learns noise per class); use --forget-classes, or pick another method for samples"
            )
        }
        let p = problem.parameters
        let (noiseBatch, copies, batchSize) = (p.int("noise-batch"), p.int("copies"), p.int("batch-size"))
        guard noiseBatch >= 1, copies >= 1, batchSize >= 1, p.int("noise-steps") >= 0, p.int("retain-per-class") >= 1
        else { throw MethodParameterError.outOfRange("sizes and counts must be ≥ 1 (noise-steps ≥ 0)") }
        let zeroShot = p.bool("zero-shot")
        let retained = (0..<problem.train.classCount).filter { !forgotten.contains($0) }
        let shape = [noiseBatch] + problem.train.imageShape

        // Error-maximising noise per forgotten class; in zero-shot mode also error-minimising impressions.
        var learned: [(tensor: String, label: Int, sign: Float)] = forgotten.map { ("noise.\($0)", $0, -1) }
        if zeroShot { learned += retained.map { ("impression.\($0)", $0, 1) } }
        var phases: [any PlanPhase] = [
            LocalPhase(name: "initialise noise") { state in
                for (tensor, _, _) in learned {
                    var generator = SeededGenerator(seed: problem.seed, stream: tensor)
                    state.tensors[tensor] = Tensor.normal(shape: shape, using: &generator)
                }
            }
        ]
        for (tensor, label, sign) in learned {
            phases.append(
                InputLearningPhase(
                    name: "learn \(tensor)", steps: p.int("noise-steps"), tensor: tensor, optimizer: "noise \(tensor)",
                    regularization: p.float("noise-lambda")
                ) { _ in
                    GradientStep(
                        parts: [
                            BatchPart(
                                inputs: .tensorRows(name: tensor, rows: Array(0..<noiseBatch)),
                                labels: Array(repeating: label, count: noiseBatch),
                                losses: [.crossEntropy(weight: sign)])
                        ], target: .inputs, isTraining: false, seed: 0)
                })
        }

        // Impair on noise copies + retain data, then repair on the retain data alone.
        let copyRows = (0..<copies).flatMap { _ in Array(0..<noiseBatch) }
        let noiseSources = forgotten.map { label in
            BatchSource(
                inputs: .tensorRows("noise.\(label)"), items: copyRows,
                labels: Array(repeating: label, count: copyRows.count),
                losses: [.crossEntropy(weight: 1)])
        }
        let retainSources: [BatchSource]
        if zeroShot {
            retainSources = retained.map { label in
                BatchSource(
                    inputs: .tensorRows("impression.\(label)"), items: copyRows,
                    labels: Array(repeating: label, count: copyRows.count), losses: [.crossEntropy(weight: 1)])
            }
        } else {
            let subset = retained.flatMap { label in
                problem.seededSubset(
                    of: problem.forgetSet.retain.filter { problem.train.labels[$0] == label },
                    count: p.int("retain-per-class"), stream: "unsir-retain-\(label)")
            }.sorted()
            retainSources = [
                BatchSource(
                    inputs: .samples, items: subset, labels: problem.labels(of: subset),
                    losses: [.crossEntropy(weight: 1)])
            ]
        }
        let impair = MixedBatches(
            sources: noiseSources + retainSources, batchSize: batchSize, seed: problem.seed("impair"))
        let repair = MixedBatches(sources: retainSources, batchSize: batchSize, seed: problem.seed("repair"))
        phases.append(
            GradientPhase(name: "impair", steps: impair.count, optimizer: "impair") { step, _ in
                impair.step(step, seed: problem.seed("impair-\(step)"))
            })
        phases.append(
            GradientPhase(name: "repair", steps: repair.count, optimizer: "repair") { step, _ in
                repair.step(step, seed: problem.seed("repair-\(step)"))
            })
        return Plan(phases: phases) {
            var optimizers: [String: Optimizer] = [
                "impair": Adam(learningRate: p.float("impair-lr")), "repair": Adam(learningRate: p.float("repair-lr")),
            ]
            for (tensor, _, _) in learned { optimizers["noise \(tensor)"] = Adam(learningRate: p.float("noise-lr")) }
            return optimizers
        }
    }
}
