import Foundation
import Tensor

/// Gamma and Dirichlet draws for label-skewed client partitions, in Double precision and reproducible from the
/// generator's state.
extension SeededGenerator {
    /// A Gamma(shape, 1) sample (mean `shape`), by Marsaglia and Tsang's squeeze method ("A Simple Method for
    /// Generating Gamma Variables", 2000); for shape < 1, a Gamma(shape + 1) sample times U^(1/shape).
    /// - Parameter shape: Positive and finite.
    public mutating func nextGamma(shape: Double) -> Double {
        precondition(shape > 0 && shape.isFinite, "gamma shape must be positive and finite, got \(shape)")
        if shape < 1 {
            let boosted = nextMarsagliaTsang(shape: shape + 1)
            return boosted * pow(nextOpenUnitDouble(), 1 / shape)
        }
        return nextMarsagliaTsang(shape: shape)
    }

    /// A Dir(alpha · 1) sample of `count` proportions that add up to 1: independent Gamma(alpha) draws,
    /// normalised. The draws are normalised in log space, so tiny alphas whose gammas underflow still give
    /// proportions (one client then takes nearly everything, as it should).
    /// - Parameters:
    ///   - alpha: The concentration, positive and finite.
    ///   - count: The number of proportions (non-negative).
    public mutating func nextDirichlet(alpha: Double, count: Int) -> [Double] {
        precondition(alpha > 0 && alpha.isFinite, "Dirichlet alpha must be positive and finite, got \(alpha)")
        precondition(count >= 0, "Dirichlet count must not be negative, got \(count)")
        var logs: [Double] = []
        logs.reserveCapacity(count)
        for _ in 0..<count {
            if alpha < 1 {
                logs.append(log(nextMarsagliaTsang(shape: alpha + 1)) + log(nextOpenUnitDouble()) / alpha)
            } else {
                logs.append(log(nextMarsagliaTsang(shape: alpha)))
            }
        }
        guard let largest = logs.max() else { return [] }
        let weights = logs.map { exp($0 - largest) }
        let total = weights.reduce(0, +)
        return weights.map { $0 / total }
    }

    /// Marsaglia–Tsang for shape ≥ 1.
    private mutating func nextMarsagliaTsang(shape: Double) -> Double {
        let d = shape - 1.0 / 3.0
        let c = 1 / (9 * d).squareRoot()
        while true {
            var x: Double
            var v: Double
            repeat {
                x = nextStandardNormal()
                v = 1 + c * x
            } while v <= 0
            v = v * v * v
            let u = nextOpenUnitDouble()
            let xx = x * x
            if u < 1 - 0.0331 * xx * xx { return d * v }
            if log(u) < 0.5 * xx + d * (1 - v + log(v)) { return d * v }
        }
    }

    /// Uniform in (0, 1] with 53 random bits (never 0, so its logarithm and powers are finite).
    private mutating func nextOpenUnitDouble() -> Double {
        Double((next() >> 11) + 1) * 0x1.0p-53
    }

    /// A standard normal in Double precision (Box–Muller, cosine branch).
    private mutating func nextStandardNormal() -> Double {
        let u1 = nextOpenUnitDouble()
        let u2 = Double(next() >> 11) * 0x1.0p-53
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }
}
