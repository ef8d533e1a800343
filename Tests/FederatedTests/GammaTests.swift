import Federated
import Tensor
import Testing

@Suite struct GammaTests {
    /// Mean and variance of `count` draws.
    func moments(shape: Double, count: Int = 20_000, seed: UInt64 = 5) -> (mean: Double, variance: Double) {
        var generator = SeededGenerator(seed: seed, stream: "gamma-test")
        let draws = (0..<count).map { _ in generator.nextGamma(shape: shape) }
        #expect(draws.allSatisfy { $0 > 0 && $0.isFinite })
        let mean = draws.reduce(0, +) / Double(count)
        let variance = draws.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(count - 1)
        return (mean, variance)
    }

    // Gamma(k, 1) has mean k and variance k. The standard error of the mean of 20 000 draws is √(k / 20 000), so
    // the mean tolerance is about 5 standard errors; the variance tolerance is looser.
    @Test(arguments: [(0.5, 0.025), (3.0, 0.06), (1.0, 0.035)])
    func meanAndVarianceMatchTheShape(shape: Double, tolerance: Double) {
        let (mean, variance) = moments(shape: shape)
        #expect(abs(mean - shape) < tolerance)
        #expect(abs(variance - shape) < 0.1 * shape)
    }

    @Test func drawsAreReproducibleFromTheSeed() {
        var a = SeededGenerator(seed: 9)
        var b = SeededGenerator(seed: 9)
        var c = SeededGenerator(seed: 10)
        let first = (0..<5).map { _ in a.nextGamma(shape: 0.7) }
        #expect(first == (0..<5).map { _ in b.nextGamma(shape: 0.7) })
        #expect(first != (0..<5).map { _ in c.nextGamma(shape: 0.7) })
    }

    @Test func dirichletProportionsAddUpToOne() {
        var generator = SeededGenerator(seed: 2)
        for alpha in [0.001, 0.1, 0.5, 1, 10] {
            let proportions = generator.nextDirichlet(alpha: alpha, count: 7)
            #expect(proportions.count == 7)
            #expect(proportions.allSatisfy { $0 >= 0 && $0.isFinite })
            #expect(abs(proportions.reduce(0, +) - 1) < 1e-12)
        }
        #expect(generator.nextDirichlet(alpha: 0.5, count: 1) == [1])
        #expect(generator.nextDirichlet(alpha: 0.5, count: 0) == [])
    }

    @Test func dirichletComponentsHaveTheRightMeanAndSpread() {
        // Dir(α·1) over 4 components: each has mean 1/4 and variance (1/4)(3/4)/(4α + 1).
        var generator = SeededGenerator(seed: 3)
        for alpha in [0.2, 5.0] {
            let draws = (0..<5_000).map { _ in generator.nextDirichlet(alpha: alpha, count: 4)[2] }
            let mean = draws.reduce(0, +) / Double(draws.count)
            let variance = draws.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(draws.count - 1)
            let expected = 0.25 * 0.75 / (4 * alpha + 1)
            #expect(abs(mean - 0.25) < 0.02)
            #expect(abs(variance - expected) < 0.15 * expected)
        }
    }
}
