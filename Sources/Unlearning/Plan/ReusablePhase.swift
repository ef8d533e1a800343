/// A phase whose outcome, the state tensors it leaves under `outputPrefix/`, depends only on the original model,
/// the training data, the shard count, the BLAS kernels and what `identity` spells out (its samples, batch size,
/// …), not on the seed or on anything an earlier phase computed: a later run on the same original may take the
/// outcome from a store instead of computing it (SSD's training-set importances). `identity` must name every
/// other input, or a reuse would change the bits.
public protocol ReusablePhase: PlanPhase {
    var identity: String { get }
    var outputPrefix: String { get }
}
