import Tensor

/// Which reference models trained on which samples: every sample of the pool is IN exactly ⌊K/2⌋ of the K
/// references (a seeded choice per sample, as in LiRA's shadow models), so each reference trains on about half
/// of the pool and every sample has OUT references to compare with. Deterministic from the seed and the pool.
public struct ReferenceMembership: Sendable, Equatable {
    public let references: Int
    public let seed: UInt64
    /// The training indices the references split (the original's training samples), ascending.
    public let pool: [Int]
    /// For each position in `pool`, the references it is IN, ascending.
    private let inReferences: [[Int]]
    private let position: [Int: Int]

    public init(pool: [Int], references: Int, seed: UInt64) {
        precondition(references >= 2, "LiRA needs at least two references (one IN, one OUT per sample)")
        self.references = references
        self.seed = seed
        self.pool = pool
        var generator = SeededGenerator(seed: seed, stream: "reference-membership")
        inReferences = pool.map { _ in generator.permutation(references).prefix(references / 2).sorted() }
        position = Dictionary(uniqueKeysWithValues: pool.enumerated().map { ($1, $0) })
    }

    /// The training indices reference `reference` trains on, ascending.
    public func members(of reference: Int) -> [Int] {
        precondition((0..<references).contains(reference), "no reference \(reference) of \(references)")
        return pool.indices.filter { inReferences[$0].contains(reference) }.map { pool[$0] }
    }

    /// Whether reference `reference` trained on training index `index` (false for samples outside the pool, such
    /// as test samples).
    public func isMember(_ index: Int, of reference: Int) -> Bool {
        guard let position = position[index] else { return false }
        return inReferences[position].contains(reference)
    }

    /// For each of `indices` (training indices, or nil for samples outside the training set), a flag per
    /// reference: IN or OUT.
    public func matrix(for indices: [Int?]) -> [[Bool]] {
        indices.map { index in
            (0..<references).map { reference in index.map { isMember($0, of: reference) } ?? false }
        }
    }
}
