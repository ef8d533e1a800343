import LetheTesting
import Tensor
import Testing

@testable import NN

/// 3×3 convolutions with stride 1 and padding 1 over ≥ 8 channels run as Winograd's F(2×2, 3×3): checked against
/// a plain convolution summed in double precision, forward and backward, on planes of even and odd sizes, with one
/// chunk of images and with several.
struct WinogradTests {
    func random(_ shape: [Int], seed: UInt64) -> Tensor {
        var generator = SeededGenerator(seed: seed)
        return Tensor.uniform(shape: shape, in: -1..<1, using: &generator)
    }

    /// y[n, o, i, j] = b[o] + Σ w[o, c, kh, kw] · x[n, c, i + kh − 1, j + kw − 1], and the gradients of Σ y · dy.
    struct Plain {
        var output: [Double]
        var inputGradient: [Double]
        var weightGradient: [Double]
        var biasGradient: [Double]

        init(input x: Tensor, weight w: Tensor, bias b: Tensor, outputGradient dy: Tensor) {
            let (batch, channels, height, width) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
            let outChannels = w.shape[0]
            output = Array(repeating: 0, count: batch * outChannels * height * width)
            inputGradient = Array(repeating: 0, count: x.count)
            weightGradient = Array(repeating: 0, count: w.count)
            biasGradient = Array(repeating: 0, count: outChannels)
            let (xs, ws, dys) = (x.scalars, w.scalars, dy.scalars)
            for n in 0..<batch {
                for o in 0..<outChannels {
                    for i in 0..<height {
                        for j in 0..<width {
                            let out = ((n * outChannels + o) * height + i) * width + j
                            var sum = Double(b.scalars[o])
                            let g = Double(dys[out])
                            biasGradient[o] += g
                            for c in 0..<channels {
                                for kh in 0..<3 {
                                    for kw in 0..<3 {
                                        let (y, x) = (i + kh - 1, j + kw - 1)
                                        guard y >= 0, y < height, x >= 0, x < width else { continue }
                                        let input = ((n * channels + c) * height + y) * width + x
                                        let weight = ((o * channels + c) * 3 + kh) * 3 + kw
                                        sum += Double(ws[weight]) * Double(xs[input])
                                        weightGradient[weight] += g * Double(xs[input])
                                        inputGradient[input] += g * Double(ws[weight])
                                    }
                                }
                            }
                            output[out] = sum
                        }
                    }
                }
            }
        }
    }

    func expectClose(_ computed: [Float], _ expected: [Double], _ what: String, tolerance: Double = 2e-5) {
        #expect(computed.count == expected.count)
        let scale = max(1, expected.map(abs).max() ?? 1)
        let worst = zip(computed, expected).map { abs(Double($0) - $1) }.max() ?? 0
        #expect(worst <= tolerance * scale, "\(what): worst difference \(worst) (scale \(scale))")
    }

    @Test(arguments: [
        (batch: 3, channels: 8, outChannels: 9, height: 14, width: 14),
        (batch: 20, channels: 9, outChannels: 8, height: 7, width: 5),
        (batch: 1, channels: 16, outChannels: 12, height: 19, width: 21),
        (batch: 4, channels: 8, outChannels: 8, height: 1, width: 2),
        (batch: 2, channels: 10, outChannels: 8, height: 3, width: 1),
        // 99 kernels: the weight transforms' last eight overlap the eight before.
        (batch: 2, channels: 9, outChannels: 11, height: 6, width: 6),
    ])
    func matchesPlainConvolution(batch: Int, channels: Int, outChannels: Int, height: Int, width: Int) {
        var generator = SeededGenerator(seed: UInt64(batch * 100 + height))
        let layer = Conv2d(channels, outChannels, kernel: 3, stride: 1, padding: 1, using: &generator)
        #expect(layer.usesWinograd)
        let input = random([batch, channels, height, width], seed: 11)
        let outputGradient = random([batch, outChannels, height, width], seed: 12)
        let plain = Plain(
            input: input, weight: layer.weight.value, bias: layer.bias!.value, outputGradient: outputGradient)
        let output = layer.forward(input, mode: .train())
        #expect(output.shape == [batch, outChannels, height, width])
        expectClose(output.scalars, plain.output, "output")
        let inputGradient = layer.backward(outputGradient)
        expectClose(inputGradient.scalars, plain.inputGradient, "input gradient")
        expectClose(layer.weight.grad.scalars, plain.weightGradient, "weight gradient")
        expectClose(layer.bias!.grad.scalars, plain.biasGradient, "bias gradient")
        // Inference gives the bits of training's forward pass.
        #expect(BitHash.of([layer.forward(input, mode: .inference)]) == BitHash.of([output]))
    }

    /// Inference on planes of every kind of tiling: one block of 4 × 4 tiles (13–16 wide and high,
    /// the transforms' fast path), several blocks with partial ones at the edges, a single partial tile, non-square.
    @Test(arguments: [
        (batch: 3, height: 16, width: 16), (batch: 2, height: 13, width: 15), (batch: 2, height: 18, width: 20),
        (batch: 1, height: 33, width: 9), (batch: 5, height: 2, width: 3), (batch: 1, height: 1, width: 1),
    ])
    func inferenceMatchesPlainConvolution(batch: Int, height: Int, width: Int) {
        var generator = SeededGenerator(seed: UInt64(batch * 100 + height))
        let layer = Conv2d(8, 16, kernel: 3, stride: 1, padding: 1, using: &generator)
        let input = random([batch, 8, height, width], seed: 23)
        let plain = Plain(
            input: input, weight: layer.weight.value, bias: layer.bias!.value,
            outputGradient: Tensor(repeating: 0, shape: [batch, 16, height, width]))
        let output = layer.forward(input, mode: .inference)
        #expect(output.shape == [batch, 16, height, width])
        expectClose(output.scalars, plain.output, "\(height)×\(width)")
    }

    /// U = G g Gᵀ of F(4×4, 3×3) is the product of the three matrices, computed in doubles.
    @Test func inferenceWeightTransformIsGgGt() {
        let g: [Double] = [0.5, -1.25, 2, 0.75, 3, -0.5, 1.5, -2.25, 0.125]
        let matrix: [[Double]] = [
            [0.25, 0, 0], [-1.0 / 6, -1.0 / 6, -1.0 / 6], [-1.0 / 6, 1.0 / 6, -1.0 / 6],
            [1.0 / 24, 1.0 / 12, 1.0 / 6], [1.0 / 24, -1.0 / 12, 1.0 / 6], [0, 0, 1],
        ]
        let u = g.map(Float.init).withUnsafeBufferPointer {
            WinogradTiling.transformWeights($0.baseAddress!, outChannels: 1, inChannels: 1)
        }
        var expected: [Double] = []
        for i in 0..<6 {
            for j in 0..<6 {
                var sum = 0.0
                for a in 0..<3 {
                    for b in 0..<3 { sum += matrix[i][a] * g[3 * a + b] * matrix[j][b] }
                }
                expected.append(sum)
            }
        }
        expectClose(u, expected, "U", tolerance: 1e-6)
    }

    @Test func finiteDifferences() {
        var generator = SeededGenerator(seed: 13)
        let layer = Conv2d(8, 8, kernel: 3, stride: 1, padding: 1, using: &generator)
        #expect(layer.usesWinograd)
        let failures = GradientCheck.check(layer, input: random([2, 8, 5, 6], seed: 14), mode: .train(), step: 1e-3)
        #expect(failures.isEmpty, "\(failures.prefix(5))")
    }

    /// Fewer than 8 channels, other kernels, strides or paddings keep im2col's products.
    @Test func onlyThreeByThreeSamePaddingOverEnoughChannels() {
        var generator = SeededGenerator(seed: 15)
        #expect(!Conv2d(1, 32, kernel: 3, stride: 1, padding: 1, using: &generator).usesWinograd)
        #expect(!Conv2d(32, 32, kernel: 3, stride: 2, padding: 1, using: &generator).usesWinograd)
        #expect(!Conv2d(32, 32, kernel: 5, stride: 1, padding: 2, using: &generator).usesWinograd)
        #expect(!Conv2d(32, 32, kernel: 3, stride: 1, padding: 0, using: &generator).usesWinograd)
        #expect(Conv2d(32, 64, kernel: 3, stride: 1, padding: 1, using: &generator).usesWinograd)
    }

    /// The result does not depend on how many threads run the chunks (or a lone chunk's products).
    @Test func sameBitsOnAnyThreadCount() {
        var generator = SeededGenerator(seed: 16)
        let layer = Conv2d(12, 16, kernel: 3, stride: 1, padding: 1, using: &generator)
        for batch in [1, 13] {
            let input = random([batch, 12, 9, 10], seed: 17)
            let outputGradient = random([batch, 16, 9, 10], seed: 18)
            var digests: Set<String> = []
            for threads in [1, 2] {
                Parallel.configure(threads: threads)
                defer { Parallel.configure(threads: nil) }
                layer.weight.grad = Tensor(repeating: 0, shape: layer.weight.value.shape)
                let output = layer.forward(input, mode: .train())
                let inputGradient = layer.backward(outputGradient)
                let inferred = layer.forward(input, mode: .inference)
                digests.insert(BitHash.of([output, inputGradient, layer.weight.grad, inferred]))
            }
            #expect(digests.count == 1, "batch \(batch)")
        }
    }

    /// An image's output has the same bits whatever batch (and so chunk, and position in it) it comes in:
    /// predictions sharded over workers match predictions made in one pass.
    @Test func outputDoesNotDependOnTheBatch() {
        var generator = SeededGenerator(seed: 19)
        let layer = Conv2d(32, 64, kernel: 3, stride: 1, padding: 1, using: &generator)
        let input = random([41, 32, 14, 14], seed: 20)
        let whole = layer.forward(input, mode: .inference).scalars
        let imageSize = 64 * 14 * 14
        for range in [0..<1, 3..<10, 17..<41] {
            let part = Tensor(
                shape: [range.count, 32, 14, 14],
                scalars: Array(input.scalars[(range.lowerBound * 32 * 196)..<(range.upperBound * 32 * 196)]))
            let expected = Array(whole[(range.lowerBound * imageSize)..<(range.upperBound * imageSize)])
            #expect(
                BitHash.of([layer.forward(part, mode: .inference)])
                    == BitHash.of([Tensor(shape: [range.count, 64, 14, 14], scalars: expected)]), "\(range)")
        }
    }

    /// A transformed matrix's positions are an odd number of 64-byte lines apart, so that the 36 lines a transform
    /// reads or writes for one block of tiles fall in 36 different sets of a 64-set L1 cache (matrices a multiple of
    /// 4 KB long put all of them in one).
    @Test(arguments: [(channels: 64, stride: 112), (channels: 32, stride: 112), (channels: 8, stride: 16), (7, 48)])
    func positionsFallInDifferentCacheSets(channels: Int, stride: Int) {
        let positionStride = WinogradTiling.positionStride(channels: channels, stride: stride)
        #expect(positionStride >= channels * stride && positionStride - channels * stride <= 16)
        #expect(positionStride % 16 == 0 && positionStride / 16 % 2 == 1)
        let sets = Set((0..<WinogradTiling.positions).map { position in position * positionStride * 4 / 64 % 64 })
        #expect(sets.count == WinogradTiling.positions)
    }

    /// Inference pools and rectifies inside the output transform: the bits of the convolution, `MaxPool2d` and
    /// `ReLU` one after the other, on an odd height (whose last tile row is in no window), planes of one block of
    /// tiles and of several, with a NaN, and with ties and signed zeros (all-zero kernels: every output is the
    /// bias).
    @Test(arguments: [
        (height: 14, width: 14, zeroKernels: false), (height: 7, width: 10, zeroKernels: false),
        (height: 6, width: 6, zeroKernels: true), (height: 16, width: 16, zeroKernels: false),
        (height: 15, width: 14, zeroKernels: true), (height: 21, width: 18, zeroKernels: false),
    ])
    func poolingInsideTheOutputTransformKeepsTheBits(height: Int, width: Int, zeroKernels: Bool) {
        var generator = SeededGenerator(seed: 21)
        let layer = Conv2d(8, 16, kernel: 3, stride: 1, padding: 1, using: &generator)
        if zeroKernels {
            layer.weight.value = Tensor(repeating: 0, shape: layer.weight.value.shape)
            layer.bias!.value = Tensor(shape: [16], scalars: (0..<16).map { $0 % 3 == 0 ? -0.0 : Float($0 % 3) - 1.5 })
        }
        var input = random([9, 8, height, width], seed: 22)
        input.scalars[3 * width + 5] = .nan
        let pool = MaxPool2d(kernel: 2)
        #expect(layer.poolsInPlace(pool, inputShape: input.shape))
        let separate = ReLU().forward(
            pool.forward(layer.forward(input, mode: .inference), mode: .inference), mode: .inference)
        #expect(BitHash.of([layer.forwardPooledReLU(input)]) == BitHash.of([separate]))
    }

    /// The transformed weights are kept from one pass to the next, and served only while the weights are the same
    /// bytes: a write in place (as an optimizer's), and one that only flips a zero's sign, gives the output of a
    /// layer that never ran before.
    @Test func keptWeightTransformFollowsTheWeights() {
        var generator = SeededGenerator(seed: 23)
        let layer = Conv2d(8, 16, kernel: 3, stride: 1, padding: 1, using: &generator)
        let input = random([3, 8, 10, 10], seed: 24)
        func fresh() -> Tensor {
            Conv2d(weight: layer.weight.value, bias: layer.bias!.value, stride: 1, padding: 1)
                .forward(input, mode: .inference)
        }
        #expect(BitHash.of([layer.forward(input, mode: .inference)]) == BitHash.of([fresh()]))
        layer.weight.value.withUnsafeMutableBufferPointer { $0[7] += 0.5 }
        #expect(BitHash.of([layer.forward(input, mode: .inference)]) == BitHash.of([fresh()]))
        layer.weight.value.withUnsafeMutableBufferPointer { $0[0] = 0 }
        _ = layer.forward(input, mode: .inference)
        layer.weight.value.withUnsafeMutableBufferPointer { $0[0] = -0.0 }
        #expect(BitHash.of([layer.forward(input, mode: .inference)]) == BitHash.of([fresh()]))
        #expect(layer.keptTransform.kept?.weights[0].sign == .minus, "the kept weights are the last ones transformed")
    }
}
