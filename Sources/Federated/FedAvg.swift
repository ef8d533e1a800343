import Tensor

/// Federated averaging (McMahan et al. 2017): the new global model is the sample-weighted mean of the clients'
/// locally trained weights.
public enum FedAvg {
    /// Σ_c (n_c / N) · θ_c for every parameter, with N = Σ_c n_c. Each weight n_c / N is computed in Double and
    /// rounded to Float once; the terms are accumulated in Float in the order given, so the same updates in the
    /// same order (the caller orders them by client key) give bit-identical results.
    /// - Parameter updates: Each client's sample count and weights; all must have the same names and shapes.
    /// - Throws: `FederatedError.noUpdates`, `.noParameters`, `.negativeSamples`, `.zeroSamples`, or
    ///   `.missingParameter`, `.unexpectedParameter` or `.shapeMismatch` when an update differs from the first.
    public static func aggregate(_ updates: [(samples: Int, weights: [String: Tensor])]) throws(FederatedError)
        -> [String: Tensor]
    {
        guard let first = updates.first else { throw .noUpdates }
        guard !first.weights.isEmpty else { throw .noParameters(context: "update 0") }
        var total = 0
        for (index, update) in updates.enumerated() {
            guard update.samples >= 0 else { throw .negativeSamples(update: index, samples: update.samples) }
            try ParameterNames.requireSame(update.weights, as: first.weights, context: "update \(index)")
            total += update.samples
        }
        guard total > 0 else { throw .zeroSamples(updates: updates.count) }
        let factors = updates.map { Float(Double($0.samples) / Double(total)) }
        var result: [String: Tensor] = [:]
        for (name, tensor) in first.weights {
            var sum = Tensor(zeros: tensor.shape)
            for (update, factor) in zip(updates, factors) {
                if let weight = update.weights[name] { sum.add(weight, scaledBy: factor) }
            }
            result[name] = sum
        }
        return result
    }
}
