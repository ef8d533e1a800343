import NN
import Tensor
import Testing

/// 3×3 convolutions over few channels run directly on padded planes: their output and gradients are a plain
/// convolution's (computed here in double precision) within float rounding, on widths that are a multiple of the
/// 16 lanes and widths that are not, heights that are a multiple of the 4 lines computed together and heights that
/// are not, with and without input gradients; and the same bits whatever the thread count.
struct DirectConvolutionTests {
    struct Shape: Sendable, CustomStringConvertible {
        let batch, inChannels, outChannels, height, width: Int
        var description: String { "\(batch)×\(inChannels)→\(outChannels) \(height)×\(width)" }
    }

    static let shapes = [
        Shape(batch: 3, inChannels: 1, outChannels: 5, height: 28, width: 28),
        Shape(batch: 2, inChannels: 3, outChannels: 4, height: 4, width: 16),
        Shape(batch: 2, inChannels: 2, outChannels: 3, height: 7, width: 33),
        Shape(batch: 17, inChannels: 1, outChannels: 2, height: 5, width: 20),
    ]

    /// Σ over c, ky, kx of w · x with zero padding 1, in double precision.
    private func reference(_ x: [Float], _ w: [Float], _ s: Shape, at n: Int, _ o: Int, _ y: Int, _ xx: Int) -> Double {
        var sum = 0.0
        for c in 0..<s.inChannels {
            for ky in 0..<3 {
                for kx in 0..<3 {
                    let (row, column) = (y + ky - 1, xx + kx - 1)
                    guard (0..<s.height).contains(row), (0..<s.width).contains(column) else { continue }
                    sum +=
                        Double(w[((o * s.inChannels + c) * 3 + ky) * 3 + kx])
                        * Double(x[((n * s.inChannels + c) * s.height + row) * s.width + column])
                }
            }
        }
        return sum
    }

    private func close(_ value: Float, _ expected: Double, scale: Double) -> Bool {
        abs(Double(value) - expected) <= 1e-5 * max(1, scale)
    }

    @Test(arguments: shapes)
    func outputAndGradientsAreAPlainConvolutions(shape s: Shape) {
        var generator = SeededGenerator(seed: UInt64(s.height * 100 + s.width))
        let layer = Conv2d(s.inChannels, s.outChannels, kernel: 3, padding: 1, using: &generator)
        let input = Tensor.uniform(shape: [s.batch, s.inChannels, s.height, s.width], in: -1..<1, using: &generator)
        let output = layer.forward(input, mode: .train())
        let (x, w, b) = (input.scalars, layer.weight.value.scalars, layer.bias!.value.scalars)
        let plane = s.height * s.width
        var worst = 0.0
        for n in 0..<s.batch {
            for o in 0..<s.outChannels {
                for y in 0..<s.height {
                    for xx in 0..<s.width {
                        let expected = reference(x, w, s, at: n, o, y, xx) + Double(b[o])
                        let value = output.scalars[(n * s.outChannels + o) * plane + y * s.width + xx]
                        worst = max(worst, abs(Double(value) - expected))
                    }
                }
            }
        }
        #expect(worst < 1e-5, "forward off by \(worst)")

        let dy = Tensor.uniform(shape: output.shape, in: -1..<1, using: &generator)
        let dx = layer.backward(dy)
        let g = dy.scalars
        // ∂w[o][c][ky][kx] = Σ dy[n][o][y][x] · x[n][c][y + ky − 1][x + kx − 1]; ∂b[o] = Σ dy[n][o]; ∂x by the chain rule.
        var dw = [Double](repeating: 0, count: w.count)
        var db = [Double](repeating: 0, count: s.outChannels)
        var dxExpected = [Double](repeating: 0, count: x.count)
        for n in 0..<s.batch {
            for o in 0..<s.outChannels {
                for y in 0..<s.height {
                    for xx in 0..<s.width {
                        let gradient = Double(g[(n * s.outChannels + o) * plane + y * s.width + xx])
                        db[o] += gradient
                        for c in 0..<s.inChannels {
                            for ky in 0..<3 {
                                for kx in 0..<3 {
                                    let (row, column) = (y + ky - 1, xx + kx - 1)
                                    guard (0..<s.height).contains(row), (0..<s.width).contains(column) else {
                                        continue
                                    }
                                    let xi = ((n * s.inChannels + c) * s.height + row) * s.width + column
                                    let wi = ((o * s.inChannels + c) * 3 + ky) * 3 + kx
                                    dw[wi] += gradient * Double(x[xi])
                                    dxExpected[xi] += gradient * Double(w[wi])
                                }
                            }
                        }
                    }
                }
            }
        }
        let terms = Double(s.batch * plane)
        #expect(zip(layer.weight.grad.scalars, dw).allSatisfy { close($0, $1, scale: terms) }, "weight gradient")
        #expect(zip(layer.bias!.grad.scalars, db).allSatisfy { close($0, $1, scale: terms) }, "bias gradient")
        #expect(dx.shape == input.shape)
        #expect(
            zip(dx.scalars, dxExpected).allSatisfy { close($0, $1, scale: 9 * Double(s.outChannels)) }, "input gradient"
        )
    }

    /// Chunks run on any number of threads, and the gradients are summed in chunk order: the same bits.
    @Test func sameBitsOnOneThreadAndOnAll() {
        func run() -> [[UInt32]] {
            var generator = SeededGenerator(seed: 21)
            let layer = Conv2d(1, 6, kernel: 3, padding: 1, using: &generator)
            layer.computesInputGradient = false
            let input = Tensor.uniform(shape: [40, 1, 28, 28], in: -1..<1, using: &generator)
            let output = layer.forward(input, mode: .train())
            _ = layer.backward(Tensor.uniform(shape: output.shape, in: -1..<1, using: &generator))
            return [output.scalars, layer.weight.grad.scalars, layer.bias!.grad.scalars].map { $0.map(\.bitPattern) }
        }
        let all = run()
        let one = Parallel.serially { run() }
        #expect(one == all)
    }
}
