import Tensor

/// 2-D convolution over NCHW input with a square kernel, stride and zero padding (PyTorch's `nn.Conv2d`,
/// groups = 1, dilation = 1). Computed as im2col + one GEMM per chunk of images, or for 3×3 kernels with stride
/// 1 and padding 1 as Winograd's F(2×2, 3×3) (`Conv2d+Winograd.swift`).
public final class Conv2d: Layer {
    public let weight: Parameter
    public let bias: Parameter?
    public let stride: Int
    public let padding: Int
    /// When false, `backward` skips ∂L/∂input (a first layer during training) and returns an empty tensor.
    public var computesInputGradient = true

    var inputShape: [Int] = []
    public internal(set) var lastMultiplyAccumulates = 0
    // Kept for backward: one im2col matrix per chunk, or with Winograd's products one transformed input per chunk
    // and the transformed weights U (the weights do not change before the backward pass); run directly
    // (`usesDirect`), the input.
    private var columns: [[Float]] = []
    private var keptWinogradWeights: [Float] = []
    private var keptInput: Tensor?
    /// The transformed weights U (up to 4 MB) kept from one pass to the next.
    var keptTransform = DerivedFromWeights(limit: 1 << 20)

    public init(weight: Tensor, bias: Tensor?, stride: Int = 1, padding: Int = 0) {
        precondition(weight.rank == 4 && weight.shape[2] == weight.shape[3], "Conv2d weight must be [out, in, k, k]")
        precondition(stride >= 1 && padding >= 0, "Conv2d needs stride ≥ 1 and padding ≥ 0")
        self.weight = Parameter(weight)
        self.bias = bias.map { Parameter($0) }
        self.stride = stride
        self.padding = padding
    }

    /// PyTorch's default initialisation: Kaiming-uniform (a = √5) weights, uniform(±1/√fan_in) bias.
    public convenience init(
        _ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0, bias: Bool = true,
        using generator: inout SeededGenerator
    ) {
        let fanIn = inChannels * kernel * kernel
        let bound = 1 / Float(fanIn).squareRoot()
        let weight = Tensor.uniform(
            shape: [outChannels, inChannels, kernel, kernel], in: -bound..<bound, using: &generator)
        let biasValue = bias ? Tensor.uniform(shape: [outChannels], in: -bound..<bound, using: &generator) : nil
        self.init(weight: weight, bias: biasValue, stride: stride, padding: padding)
    }

    public var outChannels: Int { weight.value.shape[0] }
    public var inChannels: Int { weight.value.shape[1] }
    public var kernel: Int { weight.value.shape[2] }

    public var namedState: [(name: String, parameter: Parameter)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }

    public func copy() -> Layer {
        let layer = Conv2d(weight: weight.value, bias: bias?.value, stride: stride, padding: padding)
        layer.computesInputGradient = computesInputGradient
        return layer
    }

    func geometry(_ shape: [Int]) -> ConvolutionGeometry {
        precondition(shape.count == 4 && shape[1] == inChannels, "Conv2d(\(inChannels)→…) got input \(shape)")
        return ConvolutionGeometry(
            channels: inChannels, height: shape[2], width: shape[3], kernel: kernel, stride: stride, padding: padding)
    }

    /// The batch split into chunks of images. Chunks run on different threads, and weight gradients are
    /// summed over chunks in chunk order. The split depends only on the shapes (at least 8 chunks where the batch
    /// allows, each column matrix at most 16 MB; with Winograd's products each chunk's products at most 1 MB, so
    /// that they stay in cache between the products and the transforms), never on the thread count, so every
    /// bit of the result is the same on any machine.
    func chunks(_ g: ConvolutionGeometry, batch: Int) -> [Range<Int>] {
        let byMemory =
            usesWinograd ? winogradImagesPerChunk(g) : max(1, (1 << 22) / max(1, g.rows * g.outputPlane))
        let size = max(1, min(byMemory, (batch + 7) / 8))
        return Swift.stride(from: 0, to: batch, by: size).map { $0..<min($0 + size, batch) }
    }

    public func forward(_ input: Tensor, mode: ForwardMode) -> Tensor {
        if usesWinograd && !mode.keepsActivations { return forwardWinograd(input, pooled: false) }
        let g = geometry(input.shape)
        let (batch, plane, outChannels) = (input.shape[0], g.outputPlane, outChannels)
        let chunks = chunks(g, batch: batch)
        inputShape = input.shape
        lastMultiplyAccumulates = batch * outChannels * g.rows * plane
        let biasValues = bias?.value.scalars
        var output = Tensor(
            shape: [batch, outChannels, g.outputHeight, g.outputWidth],
            scalars: .scratch(count: batch * outChannels * plane))
        let columnStore = ChunkStore(count: chunks.count)
        let winograd = usesWinograd ? transformedWeights() : []
        let tiling = winogradTiling(g)
        let direct = usesDirect(g)
        input.withUnsafeBufferPointer { x in
            weight.value.withUnsafeBufferPointer { w in
                output.withUnsafeMutableBufferPointer { y in
                    Parallel.forEachTask(chunks.count) { index, inParallel in
                        let images = chunks[index]
                        guard winograd.isEmpty else {
                            let v = winograd.withUnsafeBufferPointer { u in
                                winogradChunk(
                                    x.baseAddress! + images.lowerBound * g.channels * g.height * g.width,
                                    imageCount: images.count, tiling: tiling, weights: u.baseAddress!,
                                    bias: biasValues, into: y.baseAddress! + images.lowerBound * outChannels * plane,
                                    serial: inParallel)
                            }
                            columnStore[index] = v  // (inference returned above: `forwardWinograd`)
                            return
                        }
                        guard !direct else {
                            biasValues.withOptionalPointer { biases in
                                directImages(
                                    x.baseAddress!, images: images, g, weights: w.baseAddress!, bias: biases,
                                    into: y.baseAddress!)
                            }
                            return
                        }
                        let width = images.count * plane
                        let column = g.im2col(x, images: images, serial: inParallel)
                        // One product per image, written in place: [O, P] of image n is y's plane block.
                        column.withUnsafeBufferPointer { col in
                            for n in 0..<images.count {
                                let target = y.baseAddress! + (images.lowerBound + n) * outChannels * plane
                                BLAS.sgemm(
                                    transposeA: false, transposeB: false, m: outChannels, n: plane, k: g.rows,
                                    a: w.baseAddress!, lda: g.rows, b: col.baseAddress! + n * plane, ldb: width,
                                    c: target, ldc: plane)
                                guard let biasValues else { continue }
                                for o in 0..<outChannels {
                                    Vectorized.add(biasValues[o], to: target + o * plane, count: plane)
                                }
                            }
                        }
                        if mode.keepsActivations { columnStore[index] = column }
                    }
                }
            }
        }
        keepForBackward(
            input: direct && mode.keepsActivations ? input : nil, columns: columnStore.values, winogradWeights: winograd
        )
        return output
    }

    /// Keeps what the backward pass reads (also `forwardPooledTraining`): the input when it runs directly, else the
    /// chunks' im2col matrices or transformed inputs, and Winograd's transformed weights.
    func keepForBackward(input: Tensor?, columns: [[Float]], winogradWeights: [Float]) {
        keptInput = input
        self.columns = columns
        keptWinogradWeights = winogradWeights
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        let g = geometry(inputShape)
        precondition(
            outputGradient.shape == [inputShape[0], outChannels, g.outputHeight, g.outputWidth],
            "Conv2d backward shape")
        return backward(outputGradient, spreadBy: nil)
    }

    /// The backward pass through this convolution, its ReLU and the 2×2 max-pool that ran inside its forward pass
    /// (`forwardPooledTraining`), from the pool's output gradient: each chunk's output gradient is spread into
    /// planes (`MaxPool2d.spreadGradient`) as the chunk needs them, so the batch's full-size gradient never passes
    /// through memory. The same bits as `pool.backward` then `backward`.
    func backward(pooledGradient: Tensor, pool: MaxPool2d) -> Tensor {
        let g = geometry(inputShape)
        precondition(
            pool.inputShape == [inputShape[0], outChannels, g.outputHeight, g.outputWidth]
                && pooledGradient.shape == [inputShape[0], outChannels, g.outputHeight / 2, g.outputWidth / 2],
            "Conv2d pooled backward shape")
        return backward(pooledGradient, spreadBy: pool)
    }

    /// `outputGradient` is the output's gradient, or with `pool` the pool's output gradient.
    private func backward(_ outputGradient: Tensor, spreadBy pool: MaxPool2d?) -> Tensor {
        let g = geometry(inputShape)
        let (batch, plane, outChannels) = (inputShape[0], g.outputPlane, outChannels)
        let chunks = chunks(g, batch: batch)
        let withInput = computesInputGradient
        // Every chunk's col2im writes its images' planes whole.
        var inputGradient = Tensor(
            shape: withInput ? inputShape : [0], scalars: .scratch(count: withInput ? inputShape.reduce(1, *) : 0))
        let weightPartials = ChunkStore(count: chunks.count)
        let biasPartials = ChunkStore(count: chunks.count)
        let transposedWinograd = usesWinograd ? transposedTransformedWeights(keptWinogradWeights) : []
        let tiling = winogradTiling(g)
        let directInput = keptInput  // the input a direct convolution's backward pass reads
        outputGradient.withUnsafeBufferPointer { dy in
            weight.value.withUnsafeBufferPointer { w in
                inputGradient.withUnsafeMutableBufferPointer { dx in
                    Parallel.forEachTask(chunks.count) { index, inParallel in
                        let images = chunks[index]
                        let planes = (images.lowerBound * outChannels)..<(images.upperBound * outChannels)
                        // The chunk's output gradient planes: in place, or spread from the pool's into a scratch.
                        let spread = pool.map { pool in
                            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: planes.count * plane)
                            pool.spreadGradient(dy.baseAddress!, planes: planes, into: scratch)
                            return scratch
                        }
                        defer { spread?.deallocate() }
                        let chunkGradient = UnsafePointer(spread) ?? dy.baseAddress! + planes.lowerBound * plane
                        guard transposedWinograd.isEmpty else {
                            var biasPartial = [Float](repeating: 0, count: outChannels)
                            for n in 0..<images.count {
                                Vectorized.addRowSums(
                                    chunkGradient + n * outChannels * plane, rows: outChannels, columns: plane,
                                    into: &biasPartial)
                            }
                            biasPartials[index] = biasPartial
                            weightPartials[index] = transposedWinograd.withUnsafeBufferPointer { ut in
                                columns[index].withUnsafeBufferPointer { v in
                                    winogradChunkGradient(
                                        chunkGradient, imageCount: images.count, tiling: tiling,
                                        transformedInput: v.baseAddress!, transposedWeights: ut.baseAddress!,
                                        inputGradient: withInput
                                            ? dx.baseAddress! + images.lowerBound * g.channels * g.height * g.width
                                            : nil,
                                        serial: inParallel)
                                }
                            }
                            return
                        }
                        if let directInput {
                            (weightPartials[index], biasPartials[index]) = directChunkGradient(
                                chunkGradient, input: directInput, images: images, g, weights: w.baseAddress!,
                                inputGradient: withInput ? dx.baseAddress! : nil)
                            return
                        }
                        let width = images.count * plane
                        // [images, O, P] → [O, images·P]
                        var gathered = [Float].scratch(count: outChannels * width)
                        gathered.withUnsafeMutableBufferPointer { d in
                            for n in 0..<images.count {
                                for o in 0..<outChannels {
                                    let source = chunkGradient + (n * outChannels + o) * plane
                                    (d.baseAddress! + o * width + n * plane).update(from: source, count: plane)
                                }
                            }
                        }
                        var weightPartial = [Float].scratch(count: outChannels * g.rows)
                        gathered.withUnsafeBufferPointer { d in
                            biasPartials[index] = Vectorized.rowSums(d.baseAddress!, rows: outChannels, columns: width)
                            columns[index].withUnsafeBufferPointer { col in
                                weightPartial.withUnsafeMutableBufferPointer { dw in
                                    BLAS.sgemm(
                                        transposeA: false, transposeB: true, m: outChannels, n: g.rows, k: width,
                                        a: d.baseAddress!, lda: width, b: col.baseAddress!, ldb: width,
                                        c: dw.baseAddress!, ldc: g.rows)
                                }
                            }
                            guard withInput else { return }
                            var columnGradient = [Float].scratch(count: g.rows * width)
                            columnGradient.withUnsafeMutableBufferPointer { dcol in
                                BLAS.sgemm(
                                    transposeA: true, transposeB: false, m: g.rows, n: width, k: outChannels,
                                    a: w.baseAddress!, lda: g.rows, b: d.baseAddress!, ldb: width,
                                    c: dcol.baseAddress!, ldc: width)
                            }
                            columnGradient.withUnsafeMutableBufferPointer { dcol in
                                g.col2im(dcol, images: images, into: dx, serial: inParallel)
                            }
                        }
                        weightPartials[index] = weightPartial
                    }
                }
            }
        }
        // Sum the chunks' partial gradients in chunk order.
        weight.grad.withUnsafeMutableBufferPointer { dw in
            for partial in weightPartials.values {
                partial.withUnsafeBufferPointer {
                    Vectorized.add($0.baseAddress!, into: dw.baseAddress!, count: dw.count)
                }
            }
        }
        if let bias {
            for partial in biasPartials.values {
                for o in 0..<outChannels { bias.grad.scalars[o] += partial[o] }
            }
        }
        keepForBackward(input: nil, columns: [], winogradWeights: [])
        return inputGradient
    }
}

/// One result slot per chunk, written concurrently by the chunks' tasks (each to its own slot).
final class ChunkStore: @unchecked Sendable {
    private let slots: UnsafeMutableBufferPointer<[Float]>

    init(count: Int) {
        slots = .allocate(capacity: count)
        slots.initialize(repeating: [])
    }

    deinit {
        slots.deinitialize()
        slots.deallocate()
    }

    subscript(index: Int) -> [Float] {
        get { slots[index] }
        set { slots[index] = newValue }
    }

    var values: [[Float]] { Array(slots) }
}
