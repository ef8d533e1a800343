import Tensor

/// 2-D convolution over NCHW input with a square kernel, stride and zero padding (PyTorch's `nn.Conv2d`,
/// groups = 1, dilation = 1). Computed as im2col + one GEMM per chunk of images.
public final class Conv2d: Layer {
    public let weight: Parameter
    public let bias: Parameter?
    public let stride: Int
    public let padding: Int
    /// When false, `backward` skips ∂L/∂input (a first layer during training) and returns an empty tensor.
    public var computesInputGradient = true

    private var inputShape: [Int] = []
    public private(set) var lastMultiplyAccumulates = 0
    private var columns: [[Float]] = []  // one im2col matrix per chunk, kept for backward

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
        let weight = Tensor.uniform(shape: [outChannels, inChannels, kernel, kernel], in: -bound..<bound, using: &generator)
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

    private func geometry(_ shape: [Int]) -> ConvolutionGeometry {
        precondition(shape.count == 4 && shape[1] == inChannels, "Conv2d(\(inChannels)→…) got input \(shape)")
        return ConvolutionGeometry(
            channels: inChannels, height: shape[2], width: shape[3], kernel: kernel, stride: stride, padding: padding)
    }

    /// Images per im2col chunk: bounds the column buffer to about 64 MB. Depends only on shapes, so the
    /// summation order (and hence every bit of the result) is independent of the machine.
    private func imagesPerChunk(_ g: ConvolutionGeometry, batch: Int) -> Int {
        max(1, min(batch, (1 << 24) / max(1, g.rows * g.outputPlane)))
    }

    public func forward(_ input: Tensor, mode: ForwardMode) -> Tensor {
        let g = geometry(input.shape)
        let batch = input.shape[0]
        let plane = g.outputPlane
        let chunk = imagesPerChunk(g, batch: batch)
        inputShape = input.shape
        lastMultiplyAccumulates = batch * outChannels * g.rows * plane
        columns = []
        var output = Tensor(zeros: [batch, outChannels, g.outputHeight, g.outputWidth])
        let outChannels = outChannels
        var product = [Float](repeating: 0, count: outChannels * chunk * plane)
        for start in Swift.stride(from: 0, to: batch, by: chunk) {
            let images = min(chunk, batch - start)
            let column = input.withUnsafeBufferPointer { g.im2col($0, images: start..<(start + images)) }
            column.withUnsafeBufferPointer { col in
                weight.value.withUnsafeBufferPointer { w in
                    product.withUnsafeMutableBufferPointer { p in
                        BLAS.sgemm(
                            transposeA: false, transposeB: false, m: outChannels, n: images * plane, k: g.rows,
                            a: w.baseAddress!, lda: g.rows, b: col.baseAddress!, ldb: images * plane,
                            c: p.baseAddress!, ldc: images * plane)
                    }
                }
            }
            // [O, images·P] → [images, O, P] plus bias.
            let biasValues = bias?.value.scalars
            product.withUnsafeBufferPointer { p in
                output.withUnsafeMutableBufferPointer { y in
                    Parallel.forEach(images * outChannels, grain: 16) { range in
                        for item in range {
                            let (n, o) = item.quotientAndRemainder(dividingBy: outChannels)
                            let b = biasValues?[o] ?? 0
                            let source = p.baseAddress! + o * images * plane + n * plane
                            let target = y.baseAddress! + ((start + n) * outChannels + o) * plane
                            for i in 0..<plane { target[i] = source[i] + b }
                        }
                    }
                }
            }
            columns.append(column)
        }
        return output
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        let g = geometry(inputShape)
        let batch = inputShape[0]
        let plane = g.outputPlane
        let outChannels = outChannels
        precondition(outputGradient.shape == [batch, outChannels, g.outputHeight, g.outputWidth], "Conv2d backward shape")
        let chunk = imagesPerChunk(g, batch: batch)
        var inputGradient = computesInputGradient ? Tensor(zeros: inputShape) : Tensor(zeros: [0])
        var gathered = [Float](repeating: 0, count: outChannels * chunk * plane)
        var columnGradient = computesInputGradient ? [Float](repeating: 0, count: g.rows * chunk * plane) : []
        for (chunkIndex, start) in Swift.stride(from: 0, to: batch, by: chunk).enumerated() {
            let images = min(chunk, batch - start)
            let width = images * plane
            // [images, O, P] → [O, images·P]
            outputGradient.withUnsafeBufferPointer { dy in
                gathered.withUnsafeMutableBufferPointer { d in
                    Parallel.forEach(images * outChannels, grain: 16) { range in
                        for item in range {
                            let (n, o) = item.quotientAndRemainder(dividingBy: outChannels)
                            let source = dy.baseAddress! + ((start + n) * outChannels + o) * plane
                            (d.baseAddress! + o * width + n * plane).update(from: source, count: plane)
                        }
                    }
                }
            }
            gathered.withUnsafeBufferPointer { d in
                if let bias {
                    bias.grad.withUnsafeMutableBufferPointer { db in
                        for o in 0..<outChannels {
                            var total: Float = 0
                            for i in 0..<width { total += d[o * width + i] }
                            db[o] += total
                        }
                    }
                }
                columns[chunkIndex].withUnsafeBufferPointer { col in
                    weight.grad.withUnsafeMutableBufferPointer { dw in
                        BLAS.sgemm(
                            transposeA: false, transposeB: true, m: outChannels, n: g.rows, k: width,
                            a: d.baseAddress!, lda: width, b: col.baseAddress!, ldb: width,
                            beta: 1, c: dw.baseAddress!, ldc: g.rows)
                    }
                }
                guard computesInputGradient else { return }
                weight.value.withUnsafeBufferPointer { w in
                    columnGradient.withUnsafeMutableBufferPointer { dcol in
                        BLAS.sgemm(
                            transposeA: true, transposeB: false, m: g.rows, n: width, k: outChannels,
                            a: w.baseAddress!, lda: g.rows, b: d.baseAddress!, ldb: width,
                            c: dcol.baseAddress!, ldc: width)
                    }
                }
            }
            if computesInputGradient {
                columnGradient.withUnsafeBufferPointer { dcol in
                    inputGradient.withUnsafeMutableBufferPointer { dx in
                        g.col2im(dcol, images: start..<(start + images), into: dx)
                    }
                }
            }
        }
        columns = []
        return inputGradient
    }
}
