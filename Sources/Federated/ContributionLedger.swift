import Tensor

/// ConDa's record of how much one federated client moved each parameter: per parameter, the running sum over
/// rounds of |θ_client − θ_reference| (element-wise), where θ_client is the client's locally trained weights and
/// θ_reference the reference model (see `ReferenceModel`). Kept on the coordinator and persisted with each round.
public struct ContributionLedger: Sendable, Equatable {
    /// Per parameter name, the accumulated absolute differences (same shape as the parameter).
    public private(set) var sums: [String: Tensor]
    /// How many rounds have been accumulated.
    public private(set) var rounds: Int

    /// An empty ledger: no parameters yet, zero rounds.
    public init() {
        self.init(sums: [:], rounds: 0)
    }

    /// A ledger restored from disk.
    /// - Precondition: `rounds ≥ 0`.
    public init(sums: [String: Tensor], rounds: Int) {
        precondition(rounds >= 0, "rounds must not be negative, got \(rounds)")
        self.sums = sums
        self.rounds = rounds
    }

    /// Adds |client − reference| element-wise for every parameter of `reference` and counts one more round.
    /// The first accumulation fixes the parameter names; later ones must have exactly those names and shapes.
    /// Parameters of `client` that `reference` lacks are ignored.
    /// - Throws: `FederatedError.noParameters` for an empty reference, `.missingParameter`, `.unexpectedParameter`
    ///   or `.shapeMismatch` when the client, the reference and the ledger disagree. The ledger is then unchanged.
    public mutating func accumulate(client: [String: Tensor], reference: [String: Tensor]) throws(FederatedError) {
        guard !reference.isEmpty else { throw .noParameters(context: "the reference model") }
        if !sums.isEmpty {
            try ParameterNames.requireSame(reference, as: sums, context: "the reference model (against the ledger)")
        }
        var updated: [String: Tensor] = [:]
        for (name, base) in reference.sorted(by: { $0.key < $1.key }) {
            guard let moved = client[name] else { throw .missingParameter(name: name, context: "the client update") }
            guard moved.shape == base.shape else {
                throw .shapeMismatch(name: name, expected: base.shape, found: moved.shape, context: "the client update")
            }
            var sum = sums[name] ?? Tensor(zeros: base.shape)
            moved.withUnsafeBufferPointer { moved in
                base.withUnsafeBufferPointer { base in
                    sum.withUnsafeMutableBufferPointer { total in
                        for i in 0..<total.count { total[i] += abs(moved[i] - base[i]) }
                    }
                }
            }
            updated[name] = sum
        }
        sums = updated
        rounds += 1
    }

    /// The size of the sums in bytes (4 per float32 element).
    public var byteCount: Int { 4 * sums.values.reduce(0) { $0 + $1.count } }
}
