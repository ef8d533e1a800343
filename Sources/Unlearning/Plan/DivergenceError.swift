/// The loss became non-finite or exploded, or the weights did: the run stops instead of returning a broken
/// model.
public struct DivergenceError: Error, CustomStringConvertible {
    public let phase: String
    public let step: Int
    public let loss: Double
    public var detail: String?

    public init(phase: String, step: Int, loss: Double, detail: String? = nil) {
        self.phase = phase
        self.step = step
        self.loss = loss
        self.detail = detail
    }

    public var description: String {
        let what = detail ?? "loss \(loss) at step \(step + 1)"
        return "\(phase) diverged (\(what)). Lower the learning rate or clip the gradients (--param clip=…)."
    }
}
