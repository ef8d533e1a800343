import NN
import Tensor
import Testing

/// The vectorised 2×2, stride-2 max pool takes, value and position, the element a plain scan of each window
/// (top-left, top-right, bottom-left, bottom-right; the first NaN, else the first of equal maxima) takes, on
/// planes narrower than a vector, between vector widths, and of odd height (the last line is dropped).
struct MaxPoolWindowTests {
    /// The scan the pool must agree with: for each window, the index (within its plane) of the element taken.
    private func scanned(_ x: [Float], planes: Int, height: Int, width: Int) -> [Int] {
        var taken: [Int] = []
        for plane in 0..<planes {
            for oh in 0..<(height / 2) {
                for ow in 0..<(width / 2) {
                    var best = 2 * oh * width + 2 * ow
                    for candidate in [best + 1, best + width, best + width + 1] {
                        let (value, held) = (x[plane * height * width + candidate], x[plane * height * width + best])
                        if !held.isNaN && (value.isNaN || value > held) { best = candidate }
                    }
                    taken.append(plane * height * width + best)
                }
            }
        }
        return taken
    }

    /// The first index where two arrays differ bit for bit (a NaN equals itself).
    private func firstDifference(_ a: [Float], _ b: [Float]) -> Int? {
        a.count != b.count ? 0 : a.indices.first { a[$0].bitPattern != b[$0].bitPattern }
    }

    @Test(arguments: [(2, 2), (3, 4), (4, 6), (5, 14), (14, 14), (7, 18), (28, 28), (6, 30), (9, 16), (4, 34)])
    func takesTheElementOfAWindowScan(height: Int, width: Int) {
        let planes = 3
        var generator = SeededGenerator(seed: UInt64(height * 100 + width))
        // Few distinct values make ties common; NaNs and signed zeros are sprinkled in.
        var x = (0..<(planes * height * width)).map { _ in Float(Int.random(in: -2...2, using: &generator)) }
        for i in x.indices {
            switch i % 23 {
            case 5: x[i] = .nan
            case 9: x[i] = -0.0
            default: break
            }
        }
        let input = Tensor(shape: [1, planes, height, width], scalars: x)
        let expected = scanned(x, planes: planes, height: height, width: width)
        let pool = MaxPool2d(kernel: 2)
        for mode in [ForwardMode.inference, .train()] {
            let pooled = pool.forward(input, mode: mode)
            #expect(pooled.shape == [1, planes, height / 2, width / 2])
            let wrong = firstDifference(pooled.scalars, expected.map { x[$0] })
            #expect(wrong == nil, "\(mode): window \(wrong ?? -1) takes another element than the scan")
        }
        // Backward routes each window's gradient to the element it took.
        let windows = expected.count
        let gradient = Tensor(shape: [1, planes, height / 2, width / 2], scalars: (1...windows).map(Float.init))
        let routed = pool.backward(gradient).scalars
        var reference = [Float](repeating: 0, count: x.count)
        for (window, index) in expected.enumerated() { reference[index] += Float(window + 1) }
        let misrouted = firstDifference(routed, reference)
        #expect(misrouted == nil, "the gradient at input \(misrouted ?? -1) differs from the scan's routing")
    }

    /// A pool that rectified its output passes only its positive maxima's gradient, as 0 + the gradient (a
    /// negative zero arrives as +0, a NaN as a NaN) at the element each window took and +0 everywhere else: the
    /// bits of a ReLU's mask followed by a scatter into a zeroed plane, whichever path of the C kernel runs (planes
    /// narrower than 16 columns scatter, wider ones go by lanes).
    @Test(arguments: [(5, 14), (28, 28), (7, 18), (9, 16), (3, 40)])
    func rectifiedBackwardHasTheBitsOfMaskAndScatter(height: Int, width: Int) {
        let planes = 4
        var generator = SeededGenerator(seed: UInt64(height * 1000 + width))
        let x = (0..<(planes * height * width)).map { _ in Float(Int.random(in: -3...3, using: &generator)) }
        let input = Tensor(shape: [1, planes, height, width], scalars: x)
        let taken = scanned(x, planes: planes, height: height, width: width)
        let pool = MaxPool2d(kernel: 2)
        let pooled = pool.forwardRectified(input, mode: .train())
        let special: [Float] = [-0.0, .nan, -1.5, 0, 2.25]
        let g = taken.indices.map { special[$0 % special.count] * (Float($0 % 7) + 1) }
        let routed = pool.backward(Tensor(shape: pooled.shape, scalars: g)).scalars
        var reference = [Float](repeating: 0, count: x.count)
        for (window, index) in taken.enumerated() { reference[index] += pooled.scalars[window] > 0 ? g[window] : 0 }
        let wrong = firstDifference(routed, reference)
        #expect(
            wrong == nil,
            "input \(wrong ?? -1): \(wrong.map { routed[$0] } ?? 0) instead of \(wrong.map { reference[$0] } ?? 0)")
    }
}
