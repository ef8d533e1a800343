import Tensor

/// Layers applied in order. Named children give PyTorch parameter names (`conv1.weight`) and feature paths;
/// unnamed ones (activations, pooling) hold no state. A `FeatureTap` records named children's outputs and
/// adds injected gradients at those points during the backward pass.
public final class Sequential: Layer {
    public private(set) var children: [(name: String?, layer: Layer)]
    /// This block's own path inside the model (`""` at the root, `"layer1"` below it).
    var path = ""
    var tap: FeatureTap?
    /// The ReLU children whose last training-mode forward pass ran after the max-pool that follows them.
    private var pooledFirst: Set<Int> = []
    /// Convolutions whose ReLU and max-pool ran inside them in the last training pass (`forwardPooledTraining`):
    /// their backward pass starts from the pool's output gradient (`Conv2d.backward(pooledGradient:pool:)`).
    private var convolvedAndPooled: Set<Int> = []
    /// Called with each child once `backward` is done with it (set on the root by `Model.backward`).
    var finishedBackward: ((Layer) -> Void)?
    /// Called with each child before `forward` runs it (set on the root by `Model.forward`).
    var startingForward: ((Layer) -> Void)?

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
        var index = children.startIndex
        pooledFirst = []
        convolvedAndPooled = []
        while index < children.endIndex {
            startingForward?(children[index].layer)
            if !mode.keepsActivations, let conv = children[index].layer as? Conv2d, tappedPath(of: index) == nil,
                index + 1 < children.endIndex, let pool = poolAfterReLU(at: index + 1),
                conv.poolsInPlace(pool, inputShape: x.shape)
            {
                // Inference through a convolution, its ReLU and max-pool, image by image (the same bits).
                (1...2).forEach { startingForward?(children[index + $0].layer) }
                x = conv.forwardPooledReLU(x)
                record(x, from: index + 2)
                index += 3
                continue
            }
            if mode.keepsActivations, let conv = children[index].layer as? Conv2d, tappedPath(of: index) == nil,
                index + 1 < children.endIndex, let pool = poolAfterReLU(at: index + 1),
                conv.poolsWhileTraining(pool, inputShape: x.shape)
            {
                // Training through a convolution, its ReLU and max-pool: pooled as it is computed, the layers left
                // as their own passes leave them (the same bits), the ReLU after the pool as below.
                (1...2).forEach { startingForward?(children[index + $0].layer) }
                x = conv.forwardPooledTraining(x, pool: pool)
                pooledFirst.insert(index + 1)
                convolvedAndPooled.insert(index)
                record(x, from: index + 2)
                index += 3
                continue
            }
            if let pool = poolAfterReLU(at: index) {
                // Max-pooling first and ReLU on the pooled values gives the same numbers (ReLU is monotone:
                // relu(max(window)) = max(relu(window)); at most a zero's sign can differ, which no nonzero sum
                // downstream sees) from a ReLU over a quarter of them, done by the pool on each plane while it is in
                // cache (`forwardRectified`). The backward pass then runs in the same order (`backward`).
                startingForward?(pool)
                x = pool.forwardRectified(x, mode: mode)
                if mode.keepsActivations { pooledFirst.insert(index) }
                record(x, from: index + 1)
                index += 2
                continue
            }
            x = children[index].layer.forward(x, mode: mode)
            record(x, from: index)
            index += 1
        }
        return x
    }

    /// The max-pooling child right after an untapped ReLU child at `index`, if there is one.
    private func poolAfterReLU(at index: Int) -> MaxPool2d? {
        guard children[index].layer is ReLU, index + 1 < children.endIndex,
            let pool = children[index + 1].layer as? MaxPool2d
        else { return nil }
        return tappedPath(of: index) == nil ? pool : nil
    }

    /// Keeps the features of child `index` when the tap asks for them.
    private func record(_ features: Tensor, from index: Int) {
        if let tap, let path = tappedPath(of: index) { tap.features[path] = features }
    }

    /// The path of child `index` when it is named and the tap asks for its features.
    private func tappedPath(of index: Int) -> String? {
        guard let tap, let name = children[index].name else { return nil }
        let path = childPath(name)
        return tap.paths.contains(path) ? path : nil
    }

    /// Backward through the children in reverse. A ReLU that ran after its max-pool (`forward`: the pool
    /// rectified its output) is masked by the pool before it spreads the gradient: the gradient reaching each
    /// window's maximum is the same as the ReLU's mask on the full-size one (the maximum is positive exactly when
    /// the ReLU passed it; every other element gets 0 either way), so the bits are the same.
    public func backward(_ outputGradient: Tensor) -> Tensor {
        var gradient = outputGradient
        var index = children.endIndex - 1
        while index >= children.startIndex {
            injectGradient(into: &gradient, at: index)
            if convolvedAndPooled.contains(index - 2), let pool = children[index].layer as? MaxPool2d,
                let conv = children[index - 2].layer as? Conv2d
            {
                gradient = conv.backward(pooledGradient: gradient, pool: pool)
                (0...2).forEach { finishedBackward?(children[index - $0].layer) }
                index -= 3
                continue
            }
            if pooledFirst.contains(index - 1) {
                gradient = children[index].layer.backward(gradient)
                finishedBackward?(children[index - 1].layer)
                finishedBackward?(children[index].layer)
                index -= 2
                continue
            }
            gradient = children[index].layer.backward(gradient)
            finishedBackward?(children[index].layer)
            index -= 1
        }
        return gradient
    }

    /// Adds the gradient the tap injects at child `index`'s output, if any.
    private func injectGradient(into gradient: inout Tensor, at index: Int) {
        if let tap, let name = children[index].name, let extra = tap.gradients[childPath(name)] {
            gradient.add(extra)
        }
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
