import NN

/// PyTorch's `ReduceLROnPlateau` in "min" mode (relative threshold 1e-4, no cooldown, no floor, eps 1e-8): after
/// more than `patience` checks in a row without a new best, the optimizer's rate is multiplied by `factor`. Its
/// state lives in the plan's scalars under `key`, so it survives a resume.
struct PlateauSchedule {
    let key: String
    let factor: Float
    let patience: Int

    /// Records `value`; lowers `optimizer`'s rate when the plateau has lasted too long.
    func step(_ value: Double, optimizer: Optimizer, scalars: inout [String: Double]) {
        let best = scalars["\(key).best"] ?? .infinity
        if best == .infinity || value < best * (1 - 1e-4) {
            scalars["\(key).best"] = value
            scalars["\(key).bad"] = 0
            return
        }
        let bad = (scalars["\(key).bad"] ?? 0) + 1
        guard bad > Double(patience) else {
            scalars["\(key).bad"] = bad
            return
        }
        let lowered = optimizer.learningRate * factor
        if optimizer.learningRate - lowered > 1e-8 { optimizer.learningRate = lowered }
        scalars["\(key).bad"] = 0
    }
}
