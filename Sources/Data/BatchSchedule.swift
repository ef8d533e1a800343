import Tensor

/// The mini-batches of one epoch, reproducible from (indices, batch size, seed, epoch, shuffle, dropLast).
///
/// With `shuffle`, each epoch permutes `indices` with `SeededGenerator(seed: seed, stream: "epoch-<epoch>")`,
/// so an epoch's batches never depend on what ran before it. Without it, batches follow the given order.
/// Every index appears exactly once per epoch, except that `dropLast` omits a final short batch.
public struct BatchSchedule: Sendable, Equatable {
    public let indices: [Int]
    public let batchSize: Int
    public let seed: UInt64
    public let shuffle: Bool
    public let dropLast: Bool

    public init(indices: [Int], batchSize: Int, seed: UInt64, shuffle: Bool = true, dropLast: Bool = false) {
        precondition(batchSize > 0, "batch size must be positive, got \(batchSize)")
        self.indices = indices
        self.batchSize = batchSize
        self.seed = seed
        self.shuffle = shuffle
        self.dropLast = dropLast
    }

    /// Batches per epoch.
    public var batchCount: Int {
        dropLast ? indices.count / batchSize : (indices.count + batchSize - 1) / batchSize
    }

    /// The order in which `epoch` visits the indices (before any final short batch is dropped).
    public func order(epoch: Int) -> [Int] {
        guard shuffle else { return indices }
        var generator = SeededGenerator(seed: seed, stream: "epoch-\(epoch)")
        return generator.permutation(indices.count).map { indices[$0] }
    }

    /// The index batches of `epoch`, in order.
    public func batches(epoch: Int) -> [[Int]] {
        let order = order(epoch: epoch)
        return (0..<batchCount).map { batch in
            Array(order[(batch * batchSize)..<min((batch + 1) * batchSize, order.count)])
        }
    }

    /// One-shot form of `BatchSchedule(...).batches(epoch:)`.
    public static func batches(
        indices: [Int], batchSize: Int, seed: UInt64, epoch: Int, shuffle: Bool = true, dropLast: Bool = false
    ) -> [[Int]] {
        BatchSchedule(indices: indices, batchSize: batchSize, seed: seed, shuffle: shuffle, dropLast: dropLast)
            .batches(epoch: epoch)
    }
}
