import Tensor

/// A network as a directed acyclic graph of operations (an imported ONNX graph). Value 0 is the input; each step
/// reads earlier values and writes one new value; the forward pass runs the steps in their (topological) order and
/// the backward pass in reverse, summing the gradients of a value read by several steps in reverse step order, so
/// the arithmetic is the same on every run. A `FeatureTap` reaches every computed value by its graph name
/// (`valuePaths`, e.g. `/layer3/layer3.1/relu_1/Relu_output_0`).
public final class GraphLayer: Layer {
    public struct Step {
        public let operation: GraphOperation
        /// The values the operation reads, in its input order.
        public let inputs: [Int]
        /// The value it writes (> every input).
        public let output: Int
        /// The graph's name for that value.
        public let name: String

        public init(operation: GraphOperation, inputs: [Int], output: Int, name: String) {
            self.operation = operation
            self.inputs = inputs
            self.output = output
            self.name = name
        }
    }

    public let steps: [Step]
    public let outputValue: Int
    /// Where each state entry sits in `namedState` (the graph's initializer order).
    private let stateOrder: [String: Int]
    private let valueCount: Int
    /// For each value, the index of the last step that reads it (its memory is released after that step).
    private let lastReader: [Int]
    var tap: FeatureTap?
    private var inputShape: [Int] = []

    public init(steps: [Step], outputValue: Int, stateOrder: [String: Int]) {
        precondition(steps.allSatisfy { step in step.inputs.allSatisfy { $0 < step.output } }, "steps out of order")
        self.steps = steps
        self.outputValue = outputValue
        self.stateOrder = stateOrder
        valueCount = max(outputValue, steps.map(\.output).max() ?? 0) + 1
        var lastReader = [Int](repeating: -1, count: valueCount)
        for (index, step) in steps.enumerated() {
            for value in step.inputs { lastReader[value] = index }
        }
        self.lastReader = lastReader
    }

    public var sublayers: [Layer] { steps.compactMap(\.operation.layer) }

    /// Every operation's state, in the graph's initializer order; an entry the graph does not hold (BatchNorm's
    /// `num_batches_tracked`) follows the entry before it.
    public var namedState: [(name: String, parameter: Parameter)] {
        var rank = -1
        let ranked = steps.flatMap(\.operation.namedState).enumerated().map { offset, entry in
            rank = stateOrder[entry.name] ?? rank
            return (rank: rank, offset: offset, entry: entry)
        }
        return ranked.sorted { ($0.rank, $0.offset) < ($1.rank, $1.offset) }.map(\.entry)
    }

    public var lastMultiplyAccumulates: Int { 0 }

    /// The names of the computed values, in forward order: the paths a `FeatureTap` can record or inject at.
    public var valuePaths: [String] { steps.map(\.name) }

    public func copy() -> Layer {
        GraphLayer(
            steps: steps.map {
                Step(operation: $0.operation.copy(), inputs: $0.inputs, output: $0.output, name: $0.name)
            },
            outputValue: outputValue, stateOrder: stateOrder)
    }

    public func forward(_ input: Tensor, mode: ForwardMode) -> Tensor {
        inputShape = input.shape
        var values = [Tensor?](repeating: nil, count: valueCount)
        values[0] = input
        for (index, step) in steps.enumerated() {
            let value = step.operation.forward(step.inputs.map { values[$0]! }, mode: mode)
            if let tap, tap.paths.contains(step.name) { tap.features[step.name] = value }
            values[step.output] = value
            for input in step.inputs where lastReader[input] == index && input != outputValue { values[input] = nil }
        }
        return values[outputValue]!
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        var gradients = [Tensor?](repeating: nil, count: valueCount)
        gradients[outputValue] = outputGradient
        for step in steps.reversed() {
            if let extra = tap?.gradients[step.name] {
                if gradients[step.output] == nil {
                    gradients[step.output] = extra
                } else {
                    gradients[step.output]!.add(extra)
                }
            }
            guard let gradient = gradients[step.output] else { continue }
            gradients[step.output] = nil
            for (value, inputGradient) in zip(step.inputs, step.operation.backward(gradient)) {
                if gradients[value] == nil {
                    gradients[value] = inputGradient
                } else {
                    gradients[value]!.add(inputGradient)
                }
            }
        }
        return gradients[0] ?? Tensor(zeros: inputShape)
    }
}
