import NN

/// SCRUB (Kurmanji et al., "Towards Unbounded Machine Unlearning", NeurIPS 2023): the student starts as the
/// original, which stays as a frozen teacher. Each epoch optionally runs a max-epoch on the forget set
/// (maximising KL_T(teacher ‖ student)), then a min-epoch on the retain set (γ·CE + α·KL_T), with one SGD
/// optimizer. Safeguards that the published defaults lack on this model (they diverge): gradient-norm
/// clipping, and each max-epoch stops once a forget batch scores below the forget target (`ForgetTarget`).
///
/// Variants: `scrub+r` keeps a checkpoint per epoch and returns the one whose forget-set error is closest to
/// the final model's error on held-out validation samples like the forget set; `scrub-feature` adds
/// ‖F_t/‖F_t‖ − F_s/‖F_s‖‖² at chosen layers to both kinds of epoch.
public struct SCRUB: UnlearningMethod {
    public enum Variant: Sendable {
        case plain, rewind, features
    }

    public let variant: Variant

    public init(variant: Variant) { self.variant = variant }

    public var name: String {
        switch variant {
        case .plain: "scrub"
        case .rewind: "scrub+r"
        case .features: "scrub-feature"
        }
    }

    public var summary: String {
        switch variant {
        case .plain: "Teacher-student: push away from the original on forget data, stay close on retain data."
        case .rewind: "SCRUB, rewound to the epoch whose forget error matches held-out validation error."
        case .features: "SCRUB with normalised feature matching at chosen layers."
        }
    }

    public var parameters: [MethodParameters.Declaration] {
        var declarations: [MethodParameters.Declaration] = [
            .init(
                "epochs", "1", "Epochs E (each: a max-epoch while e ≤ max-epochs, then a min-epoch)",
                .count(1...UnlearningLimits.epochs)),
            .init("max-epochs", "1", "Epochs with a max-epoch (msteps)", .count(0...UnlearningLimits.epochs)),
            .init("lr", "0.002", "SGD learning rate", .positive),
            .init("momentum", "0.9", "SGD momentum", .belowOne),
            .init("weight-decay", "0.0005", "SGD weight decay", .nonNegative),
            .init("alpha", "0.001", "Weight of the KL term in min-epochs", .nonNegative),
            .init("gamma", "1.0", "Weight of the cross-entropy in min-epochs", .nonNegative),
            .init("temperature", "4.0", "Distillation temperature T", .positive),
            .init("clip", "5.0", "Clip the gradient to this global L2 norm (0: off)", .nonNegative),
            .init("forget-batch", "64", "Forget-set minibatch size", .batchSize),
            .init("retain-batch", "128", "Retain-set minibatch size", .batchSize),
            .init("retain-fraction", "0.2", "Seeded fraction of the retain set visited per min-epoch", .fraction),
            .init(
                "stop-accuracy", "-1.0", "Stop a max-epoch below this forget batch accuracy (-1: automatic)",
                .automaticOr(.unitInterval)),
        ]
        if variant == .features {
            declarations += [
                .init("layers", "conv2", "Layers to match features at, separated by '+' (e.g. conv1+conv2)"),
                .init("feature-weight", "1.0", "Weight of the feature term", .nonNegative),
            ]
        }
        return declarations
    }

    public func plan(for problem: UnlearningProblem) throws -> Plan {
        let p = problem.parameters
        let (epochs, maxEpochs, temperature) = (p.int("epochs"), p.int("max-epochs"), p.float("temperature"))
        let (forgetBatch, retainBatch) = (p.int("forget-batch"), p.int("retain-batch"))
        let retainFraction = try p.fraction("retain-fraction")
        guard epochs >= 1, maxEpochs >= 0, forgetBatch >= 1, retainBatch >= 1 else {
            throw MethodParameterError.outOfRange("epochs and batch sizes must be ≥ 1, max-epochs ≥ 0")
        }
        let layers = variant == .features ? p.string("layers").split(separator: "+").map(String.init) : []
        let featureWeight = variant == .features ? p.float("feature-weight") : 0
        let known = problem.architecture(0).layerPaths
        if let unknown = layers.first(where: { !known.contains($0) }) {
            throw MethodParameterError.outOfRange(
                "the model has no layer '\(unknown)' to match features at; it has \(known.joined(separator: ", "))")
        }
        let validation = problem.forgetLikeValidation
        if variant == .rewind && validation.isEmpty {
            throw MethodNotApplicable(
                "scrub+r needs held-out validation samples like the forget set; train the original with a validation split"
            )
        }
        let clip = p.positiveOrOff("clip")
        func features(_ weight: Float) -> [LossComponent] {
            layers.isEmpty ? [] : [.featureMatching(teacher: .original, layers: layers, weight: weight)]
        }

        // The teacher's logits are the original's on the samples the epochs read, predicted once (or handed over).
        let retainSubsets = (0..<epochs).map { problem.retainSubset(fraction: retainFraction, draw: "min-\($0)") }
        let originalRows = Set((maxEpochs > 0 ? problem.forgetSet.forget : []) + retainSubsets.joined()).sorted()
        var phases = ForgetTarget.phases(for: problem, override: p.float("stop-accuracy"))
        phases.append(OriginalLogits.phase(problem, rows: originalRows))
        for epoch in 0..<epochs {
            if epoch < maxEpochs {
                let batches = problem.batches(of: problem.forgetSet.forget, size: forgetBatch, draw: "max-\(epoch)")
                phases.append(
                    GradientPhase(
                        name: "max epoch \(epoch + 1)", steps: batches.count, optimizer: "sgd", clipNorm: clip,
                        makeStep: { step, _ in
                            let losses =
                                [OriginalLogits.distillation(over: batches[step], temperature: temperature, weight: -1)]
                                + features(-featureWeight)
                            return problem.step(over: batches[step], losses: losses, seed: "max-\(epoch)-\(step)")
                        }, stopWhen: { outcome, state in ForgetTarget.reached(outcome, state) }))
            }
            let batches = problem.batches(of: retainSubsets[epoch], size: retainBatch, draw: "min-\(epoch)")
            let (gamma, alpha) = (p.float("gamma"), p.float("alpha"))
            phases.append(
                GradientPhase(name: "min epoch \(epoch + 1)", steps: batches.count, optimizer: "sgd", clipNorm: clip) {
                    step, _ in
                    let losses: [LossComponent] =
                        [
                            .crossEntropy(weight: gamma),
                            OriginalLogits.distillation(over: batches[step], temperature: temperature, weight: alpha),
                        ] + features(featureWeight)
                    return problem.step(over: batches[step], losses: losses, seed: "min-\(epoch)-\(step)")
                })
            if variant == .rewind { phases.append(Rewinding.snapshot(epoch: epoch, problem: problem)) }
        }
        if variant == .rewind { phases += Rewinding.choose(epochs: epochs, validation: validation, problem: problem) }
        let optimizer = SGD(
            learningRate: p.float("lr"), momentum: p.float("momentum"), weightDecay: p.float("weight-decay"))
        return Plan(phases: phases, originalRows: originalRows) { ["sgd": optimizer] }
    }
}

/// SCRUB+R's checkpoint per epoch and the final choice.
enum Rewinding {
    static func snapshot(epoch: Int, problem: UnlearningProblem) -> PredictionPhase {
        PredictionPhase(
            name: "checkpoint epoch \(epoch + 1)",
            request: { _ in PredictionRequest(subject: .student, indices: problem.forgetSet.forget) },
            keep: { predictions, state in
                let accuracy = Evaluator.summarize(predictions, classCount: problem.train.classCount).accuracy
                state.scalars["rewind.\(epoch).forget-error"] = 1 - accuracy
                state.saveStudent(as: "rewind.\(epoch).")
            })
    }

    static func choose(epochs: Int, validation: [Int], problem: UnlearningProblem) -> [any PlanPhase] {
        [
            PredictionPhase(
                name: "validation error",
                request: { _ in PredictionRequest(subject: .student, indices: validation) },
                keep: { predictions, state in
                    state.scalars["rewind.validation-error"] = 1 - ForgetTarget.heldOutAccuracy(predictions, problem)
                }),
            LocalPhase(name: "rewind") { state in
                let target = state.scalars["rewind.validation-error"]!
                let best = (0..<epochs).min {
                    abs(state.scalars["rewind.\($0).forget-error"]! - target)
                        < abs(state.scalars["rewind.\($1).forget-error"]! - target)
                }!
                state.scalars["rewind.chosen-epoch"] = Double(best + 1)
                try state.restoreStudent(from: "rewind.\(best).")
                for epoch in 0..<epochs {
                    state.tensors = state.tensors.filter { !$0.key.hasPrefix("rewind.\(epoch).") }
                }
            },
        ]
    }
}
