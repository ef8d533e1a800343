import Tensor

/// A network with PyTorch parameter names: a root `Sequential`, the input shape it expects ([C, H, W]) and
/// the number of classes it predicts (for a regression head: the number of values it outputs).
public final class Model {
    public let architecture: String
    public let inputShape: [Int]
    public let classCount: Int
    public let root: Sequential
    /// What the outputs mean: class logits, or regression values.
    public let head: ModelHead

    public init(
        architecture: String, inputShape: [Int], classCount: Int, root: Sequential, head: ModelHead = .classification
    ) {
        self.architecture = architecture
        self.inputShape = inputShape
        self.classCount = classCount
        self.root = root
        self.head = head
        root.visitBlocks { _ in }
    }

    /// Every parameter and buffer in `state_dict` order.
    public var namedState: [(name: String, parameter: Parameter)] { root.namedState }

    /// Trainable parameters in `state_dict` order.
    public var namedParameters: [(name: String, parameter: Parameter)] {
        namedState.filter { $0.parameter.isTrainable }
    }

    /// The BatchNorm layers, in forward order.
    public var batchNorms: [BatchNorm2d] {
        func collect(_ layer: Layer) -> [BatchNorm2d] {
            (layer as? BatchNorm2d).map { [$0] } ?? layer.sublayers.flatMap(collect)
        }
        return collect(root)
    }

    public var parameterCount: Int { namedParameters.reduce(0) { $0 + $1.parameter.value.count } }

    /// Logits for a batch [N, C, H, W] (or [N, features] for models that start with `Flatten`). `startingLayer`
    /// is called with each top-level layer just before it runs (a worker loads weights that are still arriving).
    public func forward(
        _ input: Tensor, mode: ForwardMode, tap: FeatureTap? = nil, startingLayer: ((Layer) -> Void)? = nil
    ) -> Tensor {
        precondition(
            Array(input.shape.dropFirst()) == inputShape,
            "\(architecture) expects inputs of shape [N, \(inputShape.map(String.init).joined(separator: ", "))], got \(input.shape)"
        )
        setTap(tap)
        root.startingForward = startingLayer
        defer {
            setTap(nil)
            root.startingForward = nil
        }
        return root.forward(input, mode: mode)
    }

    /// Back-propagates ∂L/∂logits of the last `forward`, adding into every parameter's `grad`. Returns
    /// ∂L/∂input when `inputGradient` is true (UNSIR learns inputs), an empty tensor otherwise.
    /// `gradientsFinished` is called, last layer first, with the trainable parameters of each top-level layer as
    /// soon as this pass is done with them (no later layer adds to their `grad`), so they can be sent on early;
    /// `layerFinished` with every top-level layer then (`lethe bench engine` times the layers as they run).
    @discardableResult
    public func backward(
        _ logitsGradient: Tensor, tap: FeatureTap? = nil, inputGradient: Bool = false,
        gradientsFinished: (([Parameter]) -> Void)? = nil, layerFinished: ((Layer) -> Void)? = nil
    ) -> Tensor {
        let first = root.children.first?.layer as? Conv2d
        first?.computesInputGradient = inputGradient
        setTap(tap)
        if gradientsFinished != nil || layerFinished != nil {
            root.finishedBackward = { layer in
                layerFinished?(layer)
                let finished = layer.namedState.map(\.parameter).filter(\.isTrainable)
                if !finished.isEmpty { gradientsFinished?(finished) }
            }
        }
        defer {
            setTap(nil)
            root.finishedBackward = nil
        }
        return root.backward(logitsGradient)
    }

    public func zeroGradients() {
        for (_, parameter) in namedParameters { parameter.zeroGrad() }
    }

    /// The state as (name, tensor) pairs, in `state_dict` order.
    public func stateDict() -> [(name: String, tensor: Tensor)] {
        namedState.map { (name: $0.name, tensor: $0.parameter.value) }
    }

    /// Replaces the state with `tensors`. Refuses (changing nothing) unless every name matches with the
    /// right shape, and reports every missing, unexpected and mis-shaped tensor.
    public func load(stateDict tensors: [(name: String, tensor: Tensor)]) throws(StateDictMismatch) {
        let state = namedState
        let expected = Dictionary(state.map { ($0.name, $0.parameter.value.shape) }, uniquingKeysWith: { a, _ in a })
        let given = Dictionary(tensors.map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a })
        let mismatch = StateDictMismatch(
            architecture: architecture,
            missing: state.map(\.name).filter { given[$0] == nil },
            unexpected: tensors.map(\.name).filter { expected[$0] == nil },
            misshaped: state.compactMap { entry in
                guard let tensor = given[entry.name], tensor.shape != entry.parameter.value.shape else { return nil }
                return .init(name: entry.name, expected: entry.parameter.value.shape, found: tensor.shape)
            })
        guard mismatch.isEmpty else { throw mismatch }
        for (name, parameter) in state { parameter.value = given[name]! }
    }

    /// Multiply-accumulates of one sample's forward pass (convolutions and linear layers), measured by
    /// running one.
    public func forwardMultiplyAccumulates() -> Int {
        _ = forward(Tensor(zeros: [1] + inputShape), mode: .eval)
        func total(_ layer: Layer) -> Int {
            layer.lastMultiplyAccumulates + layer.sublayers.reduce(0) { $0 + total($1) }
        }
        return total(root)
    }

    /// An independent model with the same architecture and a copy of the state (for a frozen teacher).
    public func copy() -> Model {
        Model(
            architecture: architecture, inputShape: inputShape, classCount: classCount,
            root: root.copy() as! Sequential,
            head: head)
    }

    /// Every layer path a `FeatureTap` can record or inject at, in forward order.
    public var layerPaths: [String] {
        var paths: [String] = []
        root.visitBlocks { block in paths += block.children.compactMap { $0.name.map(block.childPath) } }
        for graph in graphs { paths += graph.valuePaths }
        return paths
    }

    /// Imported graphs at the top level (their values are tapped by name).
    private var graphs: [GraphLayer] { root.children.compactMap { $0.layer as? GraphLayer } }

    private func setTap(_ tap: FeatureTap?) {
        for graph in graphs { graph.tap = tap }
        root.visitBlocks { $0.tap = tap }
    }
}

/// Why a state dict does not fit a model, naming every offending tensor.
public struct StateDictMismatch: Error, CustomStringConvertible, Equatable {
    public struct Misshaped: Equatable, Sendable {
        public let name: String
        public let expected: [Int]
        public let found: [Int]
    }

    public let architecture: String
    public let missing: [String]
    public let unexpected: [String]
    public let misshaped: [Misshaped]

    public var isEmpty: Bool { missing.isEmpty && unexpected.isEmpty && misshaped.isEmpty }

    public var description: String {
        var lines = ["checkpoint does not match \(architecture):"]
        if !missing.isEmpty { lines.append("  missing: \(missing.joined(separator: ", "))") }
        if !unexpected.isEmpty { lines.append("  unexpected: \(unexpected.joined(separator: ", "))") }
        for entry in misshaped {
            lines.append("  \(entry.name): expected shape \(entry.expected), found \(entry.found)")
        }
        return lines.joined(separator: "\n")
    }
}
