import Tensor

/// Layers applied in order. Named children give PyTorch parameter names (`conv1.weight`) and feature paths;
/// unnamed ones (activations, pooling) hold no state. A `FeatureTap` records named children's outputs and
/// adds injected gradients at those points during the backward pass.
public final class Sequential: Layer {
    public private(set) var children: [(name: String?, layer: Layer)]
    /// This block's own path inside the model (`""` at the root, `"layer1"` below it).
    var path = ""
    var tap: FeatureTap?

    public init(_ children: [(name: String?, layer: Layer)]) {
        self.children = children
    }

    public convenience init(_ layers: [Layer]) {
        self.init(layers.map { (name: nil, layer: $0) })
    }

    public var sublayers: [Layer] { children.map(\.layer) }

    func childPath(_ name: String) -> String { path.isEmpty ? name : "\(path).\(name)" }

    public var namedState: [(name: String, parameter: Parameter)] {
        children.flatMap { child -> [(name: String, parameter: Parameter)] in
            guard let name = child.name else { return child.layer.namedState }
            return prefixed(name, child.layer.namedState)
        }
    }

    public func copy() -> Layer {
        Sequential(children.map { (name: $0.name, layer: $0.layer.copy()) })
    }

    public func forward(_ input: Tensor, mode: ForwardMode) -> Tensor {
        var x = input
        for (name, layer) in children {
            x = layer.forward(x, mode: mode)
            if let tap, let name, tap.paths.contains(childPath(name)) {
                tap.features[childPath(name)] = x
            }
        }
        return x
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        var gradient = outputGradient
        for (name, layer) in children.reversed() {
            if let tap, let name, let extra = tap.gradients[childPath(name)] {
                gradient.add(extra)
            }
            gradient = layer.backward(gradient)
        }
        return gradient
    }

    /// Visits this block and every nested `Sequential`, with paths assigned.
    func visitBlocks(_ visit: (Sequential) -> Void) {
        visit(self)
        for (name, layer) in children {
            if let block = layer as? Sequential {
                block.path = name.map(childPath) ?? path
                block.visitBlocks(visit)
            } else if let block = layer as? BasicBlock, let name {
                block.path = childPath(name)
                block.visitBlocks(visit)
            }
        }
    }
}
