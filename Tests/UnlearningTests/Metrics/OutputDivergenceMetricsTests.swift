import Foundation
import Tensor
import Testing
import Unlearning

struct OutputDivergenceMetricsTests {
    func probabilities(_ rows: [[Float]]) -> Tensor {
        Tensor(shape: [rows.count, rows[0].count], scalars: rows.flatMap { $0 })
    }

    @Test func identicalRowsHaveZeroDivergence() {
        let p = probabilities([[0.2, 0.3, 0.5], [1, 0, 0], [0.25, 0.25, 0.5]])
        #expect(jensenShannon(p, p).allSatisfy { abs($0) < 1e-12 })
    }

    @Test func disjointOneHotRowsHaveLn2() {
        let p = probabilities([[1, 0, 0], [0, 1, 0]])
        let q = probabilities([[0, 0, 1], [1, 0, 0]])
        #expect(jensenShannon(p, q).allSatisfy { abs($0 - log(2)) < 1e-12 })
    }

    @Test func twoClassHandExamples() {
        let p = probabilities([[0.5, 0.5], [0.8, 0.2]])
        let q = probabilities([[1, 0], [0.4, 0.6]])
        let values = jensenShannon(p, q)
        // m = (3/4, 1/4): ½·[½·ln(2/3) + ½·ln 2] + ½·ln(4/3) = ¾·ln(4/3).
        #expect(abs(values[0] - 0.75 * log(4.0 / 3)) < 1e-7)
        // m = (0.6, 0.4).
        let expected =
            0.5 * (0.8 * log(0.8 / 0.6) + 0.2 * log(0.2 / 0.4)) + 0.5 * (0.4 * log(0.4 / 0.6) + 0.6 * log(0.6 / 0.4))
        #expect(abs(values[1] - expected) < 1e-6)
        let reversed = jensenShannon(q, p)
        #expect(zip(values, reversed).allSatisfy { abs($0 - $1) < 1e-12 })
    }

    @Test func meanJensenShannonOfLogits() {
        // softmax([0, 0]) = (½, ½), softmax([ln 3, 0]) = (¾, ¼), m = (5/8, 3/8); the second pair is identical.
        let a = Tensor(shape: [2, 2], scalars: [0, 0, 1, 2])
        let b = Tensor(shape: [2, 2], scalars: [Float(log(3.0)), 0, 1, 2])
        let first =
            0.5 * (0.5 * log(0.5 / 0.625) + 0.5 * log(0.5 / 0.375))
            + 0.5 * (0.75 * log(0.75 / 0.625) + 0.25 * log(0.25 / 0.375))
        #expect(abs(meanJensenShannon(a, b) - first / 2) < 1e-7)
    }

    @Test func zrfIsOneForIdenticalLogits() {
        var generator = SeededGenerator(seed: 3)
        let logits = Tensor.normal(shape: [16, 10], std: 3, using: &generator)
        #expect(abs(zrfScore(modelLogits: logits, randomModelLogits: logits) - 1) < 1e-12)
        // Softmax ignores a constant shift per row.
        let shifted = Tensor(shape: logits.shape, scalars: logits.scalars.map { $0 + 4 })
        #expect(abs(zrfScore(modelLogits: logits, randomModelLogits: shifted) - 1) < 1e-6)
    }

    @Test func zrfIsBelowOneForDifferentLogits() {
        var generator = SeededGenerator(seed: 4)
        let model = Tensor.normal(shape: [16, 10], std: 3, using: &generator)
        let random = Tensor.normal(shape: [16, 10], std: 0.1, using: &generator)
        let score = zrfScore(modelLogits: model, randomModelLogits: random)
        #expect(score < 0.99)
        #expect(score >= 1 - log(2))
        // Confident, opposite predictions reach the lower bound 1 − ln 2.
        let confident = Tensor(shape: [1, 2], scalars: [50, 0])
        let opposite = Tensor(shape: [1, 2], scalars: [0, 50])
        #expect(abs(zrfScore(modelLogits: confident, randomModelLogits: opposite) - (1 - log(2))) < 1e-12)
    }

    @Test func activationDistanceHandExample() {
        // Row 0: (½, ½) vs (¾, ¼) is √(2·(¼)²) = √2/4 apart; row 1 is identical up to a shift.
        let a = Tensor(shape: [2, 2], scalars: [0, 0, 1, 3])
        let b = Tensor(shape: [2, 2], scalars: [Float(log(3.0)), 0, 2, 4])
        #expect(abs(activationDistance(a, b) - 2.0.squareRoot() / 8) < 1e-6)
        #expect(abs(activationDistance(a, a)) < 1e-12)
        let confident = Tensor(shape: [1, 2], scalars: [50, 0])
        let opposite = Tensor(shape: [1, 2], scalars: [0, 50])
        #expect(abs(activationDistance(confident, opposite) - 2.0.squareRoot()) < 1e-12)
    }
}
