import Foundation
import Tensor
import Testing

@testable import NN

/// A convolution's input gradient is computed a few images at a time (`Conv2d.columnGradientGroups`), so that
/// each group's column gradient stays in cache until col2im reads it: the bits of one product over the whole
/// chunk followed by one col2im (each element is the same sum over the output channels either way).
struct ColumnGradientGroupsTests {
    @Test func groupedInputGradientIsTheBitsOfOneProductPerChunk() {
        var generator = SeededGenerator(seed: 21)
        let conv = Conv2d(32, 64, kernel: 3, padding: 1, using: &generator)
        let (batch, outChannels) = (128, 64)
        let input = Tensor.normal(shape: [batch, 32, 14, 14], using: &generator)
        let g = conv.geometry(input.shape)
        let chunks = conv.chunks(g, batch: batch)
        #expect(chunks.allSatisfy { conv.columnGradientGroups(g, images: $0).count > 2 }, "several groups a chunk")

        _ = conv.forward(input, mode: .train())
        let outputGradient = Tensor.normal(shape: [batch, outChannels, 14, 14], using: &generator)
        let grouped = conv.backward(outputGradient)

        var whole = [Float](repeating: .nan, count: input.scalars.count)
        for chunk in chunks {
            let (plane, width) = (g.outputPlane, chunk.count * g.outputPlane)
            var gathered = [Float](repeating: 0, count: outChannels * width)
            for (n, image) in chunk.enumerated() {
                for o in 0..<outChannels {
                    for p in 0..<plane {
                        gathered[o * width + n * plane + p] =
                            outputGradient.scalars[(image * outChannels + o) * plane + p]
                    }
                }
            }
            var columnGradient = [Float](repeating: 0, count: g.rows * width)
            conv.weight.value.withUnsafeBufferPointer { w in
                BLAS.sgemm(
                    transposeA: true, transposeB: false, m: g.rows, n: width, k: outChannels, a: w.baseAddress!,
                    lda: g.rows, b: gathered, ldb: width, c: &columnGradient, ldc: width)
            }
            columnGradient.withUnsafeMutableBufferPointer { dcol in
                whole.withUnsafeMutableBufferPointer { g.col2im(dcol, images: chunk, into: $0) }
            }
        }
        #expect(digest(grouped.scalars) == digest(whole))
    }

    private func digest(_ scalars: [Float]) -> String { sha256Hex(scalars.withUnsafeBytes { Data($0) }) }
}
