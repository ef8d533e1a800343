import NN
import Tensor

/// GKT's guard against the leak of the reference notebook, where the forgotten class comes back late in
/// training (0% at 700 pseudo-batches, 76% at 900). At every checkpoint the student is scored on a probe made
/// without training data — the class impressions of the forgotten classes (inputs learned to make the teacher
/// predict them) and the generator's images of a fixed z that the teacher assigns to a forgotten class — as the
/// share of the probe it assigns to a forgotten class. A checkpoint at or under the forget target is kept; the
/// run returns the last one kept, and the report says which and why.
enum GKTLeakGuard {
    /// The probe images: impressions and generated images the teacher assigns to a forgotten class.
    static func probe(_ state: PlanState, models: GKTModels) throws -> Tensor {
        let settings = models.settings
        var random = SeededGenerator(seed: settings.seed, stream: "gkt-probe")
        let generated = models.generate(
            Tensor.normal(shape: [settings.batchSize, settings.latentSize], using: &random), state: state, step: nil)
        let candidates = Tensor.concatenate(
            settings.forgotten.map { state.tensors[GKTState.impression($0)]! } + [generated])
        let teacherClasses = try models.teacher(state).forward(candidates, mode: .inference).argmaxRows()
        let forgotten = Set(settings.forgotten)
        return candidates.gather(rows: teacherClasses.indices.filter { forgotten.contains(teacherClasses[$0]) })
    }

    /// The share of `probe` the student assigns to a forgotten class (0 for an empty probe).
    static func score(_ student: Model, probe: Tensor, forgotten: [Int]) -> Double {
        guard probe.shape[0] > 0 else { return 0 }
        let classes = Set(forgotten)
        let predicted = student.forward(probe, mode: .inference).argmaxRows()
        return Double(predicted.filter(classes.contains).count) / Double(predicted.count)
    }

    /// Records the score of the checkpoint after `pseudoBatches`; keeps the student when it is at or under the
    /// forget target, and notes the first leak after a kept checkpoint.
    static func record(checkpoint pseudoBatches: Int, score: Double, probeSize: Int, _ state: PlanState) {
        let target = state.scalars[ForgetTarget.key] ?? ForgetTarget.classDefault
        state.scalars[GKT.checkpointScorePrefix + String(pseudoBatches)] = score
        state.scalars[GKT.lastCheckpoint] = Double(pseudoBatches)
        state.scalars[GKT.probeSize] = Double(probeSize)
        if score <= target {
            state.saveStudent(as: GKTState.kept)
            state.scalars[GKT.returnedCheckpoint] = Double(pseudoBatches)
            state.scalars[GKT.returnedScore] = score
            state.scalars[GKT.firstLeak] = nil
        } else if state.scalars[GKT.returnedCheckpoint] != nil, state.scalars[GKT.firstLeak] == nil {
            state.scalars[GKT.firstLeak] = Double(pseudoBatches)
        }
    }

    /// Puts the last kept checkpoint back into the student (the last state stays when none was kept, or when
    /// the guard is off; the verdict then judges it like any run) and drops GKT's working tensors.
    static func returnChosen(_ state: PlanState, guarded: Bool = true) throws {
        if !guarded {
            state.scalars[GKT.guardOff] = 1
        } else if state.scalars[GKT.returnedCheckpoint] != nil {
            try state.restoreStudent(from: GKTState.kept)
        }
        state.tensors = state.tensors.filter { !$0.key.hasPrefix("gkt.") }
        state.labels = state.labels.filter { !$0.key.hasPrefix("gkt.") }
    }
}
