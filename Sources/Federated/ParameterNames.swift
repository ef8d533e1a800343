import Tensor

/// Checks that sets of named tensors (state dicts, ledger sums) carry the same names and shapes.
enum ParameterNames {
    /// Throws unless `tensors` has exactly the names of `expected`, each with the same shape. Names are checked
    /// in sorted order, so the same mismatch is always reported the same way.
    /// - Parameter context: What `tensors` is, for the message ("update 2", "the ledger of remaining client 0").
    static func requireSame(
        _ tensors: [String: Tensor], as expected: [String: Tensor], context: String
    ) throws(FederatedError) {
        for (name, reference) in expected.sorted(by: { $0.key < $1.key }) {
            guard let tensor = tensors[name] else { throw .missingParameter(name: name, context: context) }
            guard tensor.shape == reference.shape else {
                throw .shapeMismatch(name: name, expected: reference.shape, found: tensor.shape, context: context)
            }
        }
        if let extra = tensors.keys.sorted().first(where: { expected[$0] == nil }) {
            throw .unexpectedParameter(name: extra, context: context)
        }
    }
}
