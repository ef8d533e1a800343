import Foundation
import Testing
import Unlearning

struct LogisticRegressionMetricsTests {
    /// Plain gradient ascent on the same penalised mean log-likelihood, in the same standardised coordinates.
    func referenceFit(features: [Double], labels: [Bool], l2: Double = 1e-6) -> (slope: Double, intercept: Double) {
        let n = Double(features.count)
        let mean = features.reduce(0, +) / n
        let std = (features.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / n).squareRoot()
        let z = features.map { ($0 - mean) / std }
        var (a, b) = (0.0, 0.0)
        for _ in 0..<20_000 {
            var (ga, gb) = (0.0, 0.0)
            for (zi, label) in zip(z, labels) {
                let residual = (label ? 1.0 : 0.0) - 1 / (1 + exp(-(a * zi + b)))
                ga += residual * zi
                gb += residual
            }
            a += 2 * (ga / n - l2 * a)
            b += 2 * (gb / n - l2 * b)
        }
        return (a, b)
    }

    @Test func twoValuedFeatureRecoversTheEmpiricalFrequencies() {
        // At x = 0 one of four samples is positive, at x = 1 three of four: the maximum-likelihood fit is saturated,
        // so p(1 | 0) = 1/4 and p(1 | 1) = 3/4 (up to the 1e-6 penalty).
        let features: [Double] = [0, 0, 0, 0, 1, 1, 1, 1]
        let labels = [true, false, false, false, true, true, true, false]
        let model = LogisticRegression1D(features: features, labels: labels)
        #expect(model.converged)
        #expect(abs(model.mean - 0.5) < 1e-12)
        #expect(abs(model.scale - 0.5) < 1e-12)
        #expect(abs(model.probability(0) - 0.25) < 1e-4)
        #expect(abs(model.probability(1) - 0.75) < 1e-4)
        #expect(abs(model.slope - log(3)) < 1e-4)  // logit(3/4) − logit(1/4) = 2·ln 3 over Δz = 2
        #expect(abs(model.accuracy(features: features, labels: labels) - 0.75) < 1e-12)
    }

    @Test func overlappingDataMatchesGradientAscent() {
        let features: [Double] = [-3, -2.5, -2, -1.2, -1, -0.4, 0, 0.3, 0.9, 1.1, 1.6, 2, 2.4, 3.5, 4]
        let labels = [false, false, true, false, false, true, false, true, false, true, true, false, true, true, true]
        let model = LogisticRegression1D(features: features, labels: labels)
        let reference = referenceFit(features: features, labels: labels)
        #expect(model.converged)
        #expect(model.iterations < 20)
        #expect(abs(model.slope - reference.slope) < 1e-6)
        #expect(abs(model.intercept - reference.intercept) < 1e-6)
        for x in stride(from: -4.0, through: 5, by: 0.5) {
            let z = (x - model.mean) / model.scale
            let expected = 1 / (1 + exp(-(reference.slope * z + reference.intercept)))
            #expect(abs(model.probability(x) - expected) < 1e-6)
            #expect(model.predict(x) == (expected > 0.5))
        }
    }

    @Test func separableDataFitsWithoutNaN() throws {
        let features = (1...10).map(Double.init)
        let labels = features.map { $0 > 5.5 }
        let model = LogisticRegression1D(features: features, labels: labels)
        #expect(model.slope.isFinite && model.intercept.isFinite && model.slope > 0)
        #expect(model.iterations <= 100)
        #expect(abs(model.accuracy(features: features, labels: labels) - 1) < 1e-12)
        #expect(model.probability(1) < 0.01)
        #expect(model.probability(10) > 0.99)
        // Symmetric classes put the boundary at the midpoint 5.5.
        #expect(!model.predict(5.4))
        #expect(model.predict(5.6))

        let flipped = LogisticRegression1D(features: features, labels: labels.map { !$0 })
        #expect(flipped.slope < 0)
        #expect(abs(flipped.accuracy(features: features, labels: labels.map { !$0 }) - 1) < 1e-12)
    }

    @Test func constantFeatureGivesTheBaseRate() {
        let balanced = LogisticRegression1D(features: [0.1, 0.1, 0.1, 0.1], labels: [true, false, true, false])
        #expect(balanced.scale == 0)
        #expect(abs(balanced.slope) < 1e-12)
        #expect(abs(balanced.probability(0.1) - 0.5) < 1e-9)
        #expect(abs(balanced.probability(7) - 0.5) < 1e-9)

        let skewed = LogisticRegression1D(features: [3, 3, 3, 3], labels: [true, true, true, false])
        #expect(abs(skewed.probability(3) - 0.75) < 1e-4)
        #expect(skewed.predict(3))
    }

    @Test func singleClassStaysFinite() {
        let model = LogisticRegression1D(features: [1, 2, 3, 4], labels: [true, true, true, true])
        #expect(model.slope.isFinite && model.intercept.isFinite)
        #expect(model.probability(2.5) > 0.99)
        #expect((1...4).allSatisfy { model.predict(Double($0)) })
    }
}
