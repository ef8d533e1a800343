import NN
import Tensor

/// GKT's loop over pseudo-batches, `period` plan steps each. Step 0 of a pseudo-batch draws z (seeded by the
/// pseudo-batch), generates and gates the images, and asks for ∂(−KL(teacher ‖ student))/∂images through both
/// networks (a sharded `.inputs` step); the generator takes its step on the coordinator, then makes and gates the
/// pseudo-batch's images again for the student steps (sharded `.parameters` steps: KL + β · attention transfer).
/// A pseudo-batch whose gate keeps nothing changes nothing; after `restoreAfter` of them in a row the generator
/// goes back to its last checkpoint. Every `checkpointEvery` pseudo-batches the generator's mean loss steps the
/// plateau schedule, the generator is checkpointed and the leak guard scores the student.
struct GKTTransfer: PlanPhase {
    let name = "transfer"
    let settings: GKTSettings
    let models: GKTModels

    var stepCount: Int { settings.pseudoBatches * settings.period }

    func work(at step: Int, _ state: PlanState) throws -> Work {
        let (pseudoBatch, iteration) = step.quotientAndRemainder(dividingBy: settings.period)
        if iteration == 0 {
            var random = SeededGenerator(seed: settings.seed, stream: "gkt-z-\(pseudoBatch)")
            state.tensors[GKTState.latent] = Tensor.normal(
                shape: [settings.batchSize, settings.latentSize], using: &random)
            try generateAndGate(state, step: step)
        }
        let rows = state.labels[GKTState.gatedRows] ?? []
        guard !rows.isEmpty else { return .local }
        let images = InputSource.tensorRows(name: GKTState.images, rows: rows)
        let labels = state.labels[GKTState.gatedLabels]!
        // The reference's F.kl_div averages over rows and classes; the step divides by rows.
        let klWeight = 1 / Float(settings.classCount)
        if iteration == 0 {
            let loss = LossComponent.distillation(
                teacher: .original, temperature: settings.temperature, weight: -klWeight)
            return .gradient(
                GradientStep(
                    parts: [BatchPart(inputs: images, labels: labels, losses: [loss])], target: .inputs,
                    isTraining: false, seed: 0))
        }
        var losses: [LossComponent] = [
            .distillation(teacher: .original, temperature: settings.temperature, weight: klWeight)
        ]
        if !settings.layers.isEmpty, settings.beta > 0 {
            losses.append(.attentionTransfer(teacher: .original, layers: settings.layers, weight: settings.beta))
        }
        var random = SeededGenerator(seed: settings.seed, stream: "gkt-student-step")
        return .gradient(
            GradientStep(
                parts: [BatchPart(inputs: images, labels: labels, losses: losses)], seed: random.next() &+ UInt64(step))
        )
    }

    func finish(step: Int, result: WorkResult, _ state: PlanState) throws -> PhaseControl {
        let (pseudoBatch, iteration) = step.quotientAndRemainder(dividingBy: settings.period)
        if iteration == 0 {
            if let outcome = result.outcome {
                stepGenerator(outcome, step: step, state)
                try generateAndGate(state, step: nil)
            }
            countEmpty(state)
        } else if result.outcome != nil {
            state.student.clipGradientNorm(settings.clip)
            state.optimizer(GKTState.studentOptimizer).update(model: state.student)
        }
        let completed = pseudoBatch + 1
        if iteration == settings.period - 1, completed % settings.checkpointEvery == 0 {
            try checkpoint(after: completed, state)
        }
        return .proceed
    }

    private func generateAndGate(_ state: PlanState, step: Int?) throws {
        let images = models.generate(state.tensors[GKTState.latent]!, state: state, step: step)
        let (rows, labels) = try models.gate(images, state: state)
        state.tensors[GKTState.images] = images
        state.labels[GKTState.gatedRows] = rows
        state.labels[GKTState.gatedLabels] = labels
    }

    /// The generator's step from the gated rows' input gradients (zero for the rows the gate dropped).
    private func stepGenerator(_ outcome: StepOutcome, step: Int, _ state: PlanState) {
        let images = state.tensors[GKTState.images]!
        if models.forwardedStep != step {
            _ = models.generate(state.tensors[GKTState.latent]!, state: state, step: step)
        }
        let rowSize = images.count / images.shape[0]
        var gradient = Tensor(zeros: images.shape)
        let gated = outcome.inputGradients[0]!
        gradient.withUnsafeMutableBufferPointer { target in
            gated.withUnsafeBufferPointer { source in
                for (index, row) in state.labels[GKTState.gatedRows]!.enumerated() {
                    for i in 0..<rowSize { target[row * rowSize + i] = source[index * rowSize + i] }
                }
            }
        }
        models.update(imageGradient: gradient, state: state)
        state.scalars["gkt.window-loss", default: 0] += outcome.loss
        state.scalars["gkt.window-steps", default: 0] += 1
    }

    private func countEmpty(_ state: PlanState) {
        guard state.labels[GKTState.gatedRows]!.isEmpty else {
            state.scalars["gkt.empty-run"] = 0
            return
        }
        state.scalars[GKT.emptyPseudoBatches, default: 0] += 1
        state.scalars["gkt.empty-run", default: 0] += 1
        if state.scalars["gkt.empty-run"]! >= Double(settings.restoreAfter) {
            GKTModels.copyGenerator(state, from: GKTState.generatorCheckpoint, to: GKTState.generator)
            state.scalars[GKT.generatorRestores, default: 0] += 1
            state.scalars["gkt.empty-run"] = 0
        }
    }

    private func checkpoint(after pseudoBatches: Int, _ state: PlanState) throws {
        if let steps = state.scalars["gkt.window-steps"], steps > 0 {
            settings.plateau.step(
                state.scalars["gkt.window-loss"]! / steps, optimizer: state.optimizer(GKTState.generatorOptimizer),
                scalars: &state.scalars)
        }
        state.scalars["gkt.window-loss"] = 0
        state.scalars["gkt.window-steps"] = 0
        GKTModels.copyGenerator(state, from: GKTState.generator, to: GKTState.generatorCheckpoint)
        let probe = try GKTLeakGuard.probe(state, models: models)
        let score = GKTLeakGuard.score(state.student, probe: probe, forgotten: settings.forgotten)
        GKTLeakGuard.record(checkpoint: pseudoBatches, score: score, probeSize: probe.shape[0], state)
    }
}
