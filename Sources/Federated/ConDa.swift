import Tensor

/// Contribution Dampening (ConDa; Chundawat et al., "ConDa: Fast Federated Unlearning with Contribution
/// Dampening", 2024): forgets a client by shrinking the parameters it moved much more than the others did,
/// computed from the `ContributionLedger`s alone, with no client data.
///
/// With Φ_f the forgotten client's ledger sums and Φ_r the element-wise mean of the remaining clients' sums, each
/// element's ratio is Φ_r / max(Φ_f, ε). Every element with ratio < `alpha` (the forgotten client dominated it) is
/// multiplied by min(`lambda` · ratio, `upper`); the others are left alone. An element that no client moved
/// (Φ_r = Φ_f = 0, an undefined ratio) is left alone too, as in the reference code.
public struct ConDa: Sendable, Equatable {
    /// The ratio below which an element is dampened.
    public var alpha: Float
    /// The dampening constant: a dampened element is multiplied by min(lambda · ratio, upper).
    public var lambda: Float
    /// The largest dampening factor (1 keeps dampening from growing a parameter).
    public var upper: Float
    /// The floor of the ratio's denominator.
    public var epsilon: Float
    /// Use the inverted ratio Φ_f / max(Φ_r, ε), as the ConDa reference code effectively does (its
    /// `apply_dampening` receives the two contributions in swapped order).
    public var repoCompat: Bool

    /// The result of `dampen`.
    public struct Dampening: Sendable, Equatable {
        /// The dampened weights: every name of the input, ledger-covered ones possibly scaled.
        public var weights: [String: Tensor]
        /// How many elements were multiplied by a dampening factor.
        public var dampened: Int
        /// How many elements the ledgers cover (and so could have been dampened).
        public var total: Int
    }

    public init(
        alpha: Float = 0.5, lambda: Float = 1, upper: Float = 1, epsilon: Float = 1e-12, repoCompat: Bool = false
    ) {
        self.alpha = alpha
        self.lambda = lambda
        self.upper = upper
        self.epsilon = epsilon
        self.repoCompat = repoCompat
    }

    /// Dampens the parameters the forgotten client dominated. Names the ledgers do not cover pass through.
    /// - Parameters:
    ///   - weights: The global model's state.
    ///   - forgotten: The ledger of the client to forget.
    ///   - remaining: The ledgers of every other client (at least one), averaged in the order given.
    /// - Throws: `FederatedError.noRemainingClients`, or `.missingParameter`, `.unexpectedParameter` or
    ///   `.shapeMismatch` when the ledgers' names and shapes differ or `weights` lacks one of them.
    public func dampen(
        _ weights: [String: Tensor], forgotten: ContributionLedger, remaining: [ContributionLedger]
    ) throws(FederatedError) -> Dampening {
        guard !remaining.isEmpty else { throw .noRemainingClients }
        for (index, ledger) in remaining.enumerated() {
            try ParameterNames.requireSame(
                ledger.sums, as: forgotten.sums, context: "the ledger of remaining client \(index)")
        }
        for (name, sum) in forgotten.sums.sorted(by: { $0.key < $1.key }) {
            guard let weight = weights[name] else { throw .missingParameter(name: name, context: "the weights") }
            guard weight.shape == sum.shape else {
                throw .shapeMismatch(name: name, expected: sum.shape, found: weight.shape, context: "the weights")
            }
        }
        var result = Dampening(weights: weights, dampened: 0, total: 0)
        for (name, forgottenSum) in forgotten.sums.sorted(by: { $0.key < $1.key }) {
            let remainingMean = Self.mean(remaining.compactMap { $0.sums[name] }, shape: forgottenSum.shape)
            guard var weight = result.weights[name] else { continue }
            let dampened = scale(&weight, forgotten: forgottenSum, remaining: remainingMean)
            result.weights[name] = weight
            result.dampened += dampened
            result.total += weight.count
        }
        return result
    }

    /// Multiplies the dominated elements of `weight`; returns how many there were.
    private func scale(_ weight: inout Tensor, forgotten: Tensor, remaining: Tensor) -> Int {
        var dampened = 0
        forgotten.withUnsafeBufferPointer { phiF in
            remaining.withUnsafeBufferPointer { phiR in
                weight.withUnsafeMutableBufferPointer { values in
                    for i in 0..<values.count where phiF[i] != 0 || phiR[i] != 0 {
                        let ratio = repoCompat ? phiF[i] / max(phiR[i], epsilon) : phiR[i] / max(phiF[i], epsilon)
                        guard ratio < alpha else { continue }
                        values[i] *= min(lambda * ratio, upper)
                        dampened += 1
                    }
                }
            }
        }
        return dampened
    }

    /// The element-wise mean of equally shaped tensors, summed in the order given.
    private static func mean(_ tensors: [Tensor], shape: [Int]) -> Tensor {
        var total = Tensor(zeros: shape)
        for tensor in tensors { total.add(tensor) }
        total.scale(by: 1 / Float(tensors.count))
        return total
    }
}
