import Tensor

/// Items of one kind in a mixed pass: training samples or rows of a state tensor, each with a label and the
/// losses computed on it.
public struct BatchSource {
    public let inputs: Kind
    /// Sample indices (`.samples`) or tensor rows (`.tensorRows`).
    public let items: [Int]
    public let labels: [Int]
    public let losses: [LossComponent]

    public enum Kind {
        case samples
        case tensorRows(String)
    }

    public init(inputs: Kind, items: [Int], labels: [Int], losses: [LossComponent]) {
        precondition(items.count == labels.count, "a batch source needs one label per item")
        self.inputs = inputs
        self.items = items
        self.labels = labels
        self.losses = losses
    }
}

/// One shuffled pass over the items of several sources (e.g. noise with retain samples); each batch becomes
/// a gradient step with one part per source present in it.
public struct MixedBatches {
    public let sources: [BatchSource]
    private let batches: [[(source: Int, position: Int)]]

    public init(sources: [BatchSource], batchSize: Int, seed: UInt64) {
        self.sources = sources
        let items = sources.enumerated().flatMap { source, batchSource in
            batchSource.items.indices.map { (source: source, position: $0) }
        }
        var generator = SeededGenerator(seed: seed, stream: "mixed-batches")
        let order = generator.permutation(items.count).map { items[$0] }
        batches = stride(from: 0, to: order.count, by: batchSize).map {
            Array(order[$0..<min($0 + batchSize, order.count)])
        }
    }

    public var count: Int { batches.count }

    /// Batch `index` as a step whose loss is the batch mean.
    public func step(_ index: Int, seed: UInt64) -> GradientStep {
        let grouped = Dictionary(grouping: batches[index], by: \.source)
        let parts = grouped.keys.sorted().map { source -> BatchPart in
            let batchSource = sources[source]
            let positions = grouped[source]!.map(\.position)
            let items = positions.map { batchSource.items[$0] }
            let inputs: InputSource =
                switch batchSource.inputs {
                case .samples: .samples(items)
                case .tensorRows(let name): .tensorRows(name: name, rows: items)
                }
            return BatchPart(
                inputs: inputs, labels: positions.map { batchSource.labels[$0] }, losses: batchSource.losses)
        }
        return GradientStep(parts: parts, seed: seed)
    }
}
