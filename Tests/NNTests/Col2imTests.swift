import Tensor
import Testing

@testable import NN

/// The column-gradient scatter (`ConvolutionGeometry.col2im`) against a plain loop that adds every (kh, kw, oh, ow)
/// contribution in that order onto zero: the same bits, signed zeros included, for "same" stride-1 geometries
/// (one shifted addition per row) and for the others (line by line).
struct Col2imTests {
    @Test(arguments: [(3, 1, 1), (5, 2, 1), (3, 1, 2), (3, 0, 1), (2, 1, 1)])
    func scatterGivesThePlainLoopsBits(kernel: Int, padding: Int, stride: Int) {
        let g = ConvolutionGeometry(channels: 2, height: 5, width: 6, kernel: kernel, stride: stride, padding: padding)
        let images = 1..<4
        let (plane, width) = (g.outputPlane, images.count * g.outputPlane)
        var generator = SeededGenerator(seed: UInt64(kernel * 100 + padding * 10 + stride))
        var col = Tensor.normal(shape: [g.rows * width], using: &generator).scalars
        for i in Swift.stride(from: 0, to: col.count, by: 5) { col[i] = i % 2 == 0 ? 0 : -0.0 }
        var expected = [Float](repeating: .nan, count: 4 * g.channels * g.height * g.width)
        for (offset, image) in images.enumerated() {
            for channel in 0..<g.channels {
                let base = (image * g.channels + channel) * g.height * g.width
                for i in 0..<(g.height * g.width) { expected[base + i] = 0 }
                for kh in 0..<kernel {
                    for kw in 0..<kernel {
                        let row = (channel * kernel + kh) * kernel + kw
                        for oh in 0..<g.outputHeight {
                            for ow in 0..<g.outputWidth {
                                let (ih, iw) = (oh * stride - padding + kh, ow * stride - padding + kw)
                                guard (0..<g.height).contains(ih), (0..<g.width).contains(iw) else { continue }
                                expected[base + ih * g.width + iw] +=
                                    col[row * width + offset * plane + oh * g.outputWidth + ow]
                            }
                        }
                    }
                }
            }
        }
        var input = [Float](repeating: .nan, count: expected.count)
        col.withUnsafeMutableBufferPointer { c in
            input.withUnsafeMutableBufferPointer { g.col2im(c, images: images, into: $0) }
        }
        #expect(input.map(\.bitPattern) == expected.map(\.bitPattern))
    }
}
