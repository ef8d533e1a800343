import NN
import Tensor

/// `calibrated-relabel`: forgets listed or random samples the way retraining does — until each looks like a
/// held-out sample, not until the model gets it wrong. Every `refresh` steps a forward pass measures the
/// forget samples' and the held-out calibration samples' current losses and `CalibrationGate` picks the
/// active forget samples: those whose target (the held-out loss at the same quantile) lies above
/// `min-target-loss` and whose loss is still below it. Each step descends a retain batch together with
/// `forget-weight` × the cross-entropy of up to `forget-batch` active samples towards their current runner-up
/// class. The two have to run together: retain descent alone makes the in-distribution forget samples more
/// familiar again, forgetting alone costs test accuracy. With membership-audit references the held-out samples
/// are the forget samples' difficulty-matched stand-ins (`DifficultyMatch`), so a forget set easier or harder
/// than held-out data lands where a retrain would. For classes every forget sample stays active while the
/// model still predicts its label (a model that never saw a class gets none of it right).
public struct CalibratedRelabel: UnlearningMethod {
    public let name = "calibrated-relabel"
    public let summary =
        "Relabel forget samples towards their runner-up class until their losses match held-out ones, with retain descent."
    public let parameters: [MethodParameters.Declaration] = [
        .init("steps", "400", "Gradient steps", .count(1...UnlearningLimits.steps)),
        .init("refresh", "10", "Steps between measurements of the losses (and of the active set)", .count(1...1000)),
        .init("lr", "0.003", "SGD learning rate", .positive),
        .init("momentum", "0.9", "SGD momentum", .belowOne),
        .init("weight-decay", "5e-4", "SGD weight decay", .nonNegative),
        .init("retain-batch", "128", "Retain minibatch size", .batchSize),
        .init("forget-batch", "64", "Most active forget samples per step", .batchSize),
        .init("forget-weight", "0.1", "Weight of the relabelled forget term against the retain term", .positive),
        .init(
            "min-target-loss", "0.85",
            "Only samples whose held-out target loss exceeds this are pushed (0.85: held-out samples the model gets wrong, which lands the forget accuracy at the held-out one)",
            .nonNegative),
        .init(
            "calibration-samples", "1000",
            "Held-out samples measured for the targets (a seeded subset of the holdout like the forget set)",
            .count(1...UnlearningLimits.samples)),
        .init("clip", "5.0", "Clip the gradient to this global L2 norm (0: off)", .nonNegative),
    ]

    public init() {}

    static let optimizer = "sgd"
    static let activeKey = "calibrated-relabel.active"
    static let labelsKey = "calibrated-relabel.labels"
    static let activeCountKey = "calibrated-relabel.active-count"

    public func plan(for problem: UnlearningProblem) throws -> Plan {
        let p = problem.parameters
        let forget = problem.forgetSet.forget
        let gate = try Gate(
            problem: problem, minimumTarget: Double(p.float("min-target-loss")),
            calibrationSamples: p.int("calibration-samples"))
        let (steps, refresh) = (p.int("steps"), p.int("refresh"))
        let retainBatches = retainSchedule(problem, steps: steps, size: p.int("retain-batch"))
        let (forgetBatch, forgetWeight) = (p.int("forget-batch"), p.float("forget-weight"))
        var phases: [any PlanPhase] = []
        for block in 0..<((steps + refresh - 1) / refresh) {
            phases.append(
                PredictionPhase(
                    name: "measure \(block + 1)",
                    request: { _ in PredictionRequest(subject: .student, indices: forget + gate.heldOut) },
                    keep: { predictions, state in
                        gate.choose(predictions, forget: forget, seed: problem.seed("active-\(block)"), state)
                    }))
            let first = block * refresh
            phases.append(
                GradientPhase(
                    name: "relabel \(block + 1)", steps: min(refresh, steps - first), optimizer: Self.optimizer,
                    clipNorm: p.positiveOrOff("clip")
                ) { step, state in
                    let retain = retainBatches[first + step]
                    var parts = [
                        BatchPart(
                            inputs: .samples(retain), labels: problem.labels(of: retain),
                            losses: [.crossEntropy(weight: 1 / Float(retain.count))])
                    ]
                    let (active, labels) = (state.labels[Self.activeKey]!, state.labels[Self.labelsKey]!)
                    if !active.isEmpty {
                        let rows = (0..<min(forgetBatch, active.count)).map { (step * forgetBatch + $0) % active.count }
                        parts.append(
                            BatchPart(
                                inputs: .samples(rows.map { active[$0] }), labels: rows.map { labels[$0] },
                                losses: [.crossEntropy(weight: forgetWeight / Float(rows.count))]))
                    }
                    return GradientStep(
                        parts: parts, normalizer: 1, seed: problem.seed("calibrated-relabel-\(first + step)"))
                })
        }
        let optimizer = SGD(
            learningRate: p.float("lr"), momentum: p.float("momentum"), weightDecay: p.float("weight-decay"))
        return Plan(phases: phases) { [Self.optimizer: optimizer] }
    }

    /// Shuffled retain batches for `steps` steps: as many seeded passes over the retain set as they need.
    private func retainSchedule(_ problem: UnlearningProblem, steps: Int, size: Int) -> [[Int]] {
        var batches: [[Int]] = []
        var pass = 0
        while batches.count < steps {
            batches += problem.batches(of: problem.forgetSet.retain, size: size, draw: "calibrated-retain-\(pass)")
            pass += 1
        }
        return batches
    }
}

extension CalibratedRelabel {
    /// Picks the active forget samples and their runner-up labels from a measurement.
    struct Gate {
        /// Held-out samples like the forget set, at most the calibration count (none for classes); with references,
        /// each forget sample's difficulty-matched stand-in instead.
        let heldOut: [Int]
        let minimumTarget: Double
        let forgotten: Set<Int>?

        init(problem: UnlearningProblem, minimumTarget: Double, calibrationSamples: Int) throws {
            switch problem.forgetSet.selection {
            case .classes: heldOut = []
            case .fraction, .indices:
                let like = problem.forgetLikeValidation
                guard !like.isEmpty else {
                    throw MethodNotApplicable(
                        "calibrated-relabel calibrates the forget samples against held-out samples the original never trained on, and this run has none like them: use --holdout test-half, or a checkpoint with a validation split"
                    )
                }
                heldOut =
                    problem.difficultyMatch?.standIns
                    ?? problem.seededSubset(of: like, count: calibrationSamples, stream: "calibration")
            case .confusion, .targetRange:
                throw MethodNotApplicable(
                    "calibrated-relabel calibrates forget samples against held-out ones, which does not fit mislabelled samples (--confuse-classes); use scrub or scrub-and-learn"
                )
            }
            self.minimumTarget = minimumTarget
            forgotten = problem.forgetSet.forgottenClasses.map(Set.init)
        }

        func choose(_ predictions: Evaluator.Predictions, forget: [Int], seed: UInt64, _ state: PlanState) {
            let n = forget.count
            let own = predictions.selecting(Array(0..<n))
            let positions: [Int]
            if forgotten != nil {
                positions = CalibrationGate.stillPredicted(labels: own.labels, predicted: own.predicted)
            } else {
                let targets = CalibrationGate.targets(
                    forgetLosses: own.losses, heldOutLosses: Array(predictions.losses[n...]))
                positions = CalibrationGate.active(losses: own.losses, targets: targets, minimumTarget: minimumTarget)
            }
            state.scalars[CalibratedRelabel.activeCountKey] = Double(positions.count)
            var generator = SeededGenerator(seed: seed, stream: "active-order")
            let order = generator.permutation(positions.count).map { positions[$0] }
            let runnerUp = SCRUBAndLearn.runnerUp(own.logits, excluding: own.labels, forgotten: forgotten ?? [])
            state.labels[CalibratedRelabel.activeKey] = order.map { forget[$0] }
            state.labels[CalibratedRelabel.labelsKey] = order.map { runnerUp[$0] }
        }
    }
}
