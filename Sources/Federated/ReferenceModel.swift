/// What a client's weights are compared with when its contribution is added to its `ContributionLedger`.
public enum ReferenceModel: String, Sendable, CaseIterable {
    /// The model the federation started from, as in ConDa (Chundawat et al. 2024): the ledger sums each round's
    /// distance of the client's weights from the initial model.
    case initial
    /// The global model each round started from: the ledger sums the client's own update of each round.
    case round
}
