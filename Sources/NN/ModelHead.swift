/// What a model's outputs mean.
public enum ModelHead: Equatable, Sendable {
    /// One logit per class (trained with cross-entropy, scored by accuracy).
    case classification
    /// `outputs` real values per sample (trained with L1 or squared error, scored by absolute error).
    case regression(outputs: Int)

    public var isRegression: Bool {
        if case .regression = self { true } else { false }
    }
}
