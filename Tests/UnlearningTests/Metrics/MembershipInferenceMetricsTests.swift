import Foundation
import Tensor
import Testing
import Unlearning

struct MembershipInferenceMetricsTests {
    func gaussian(_ count: Int, mean: Double = 0, seed: UInt64) -> [Double] {
        var generator = SeededGenerator(seed: seed)
        return (0..<count).map { _ in mean + Double(generator.nextGaussian()) }
    }

    func uniform(_ count: Int, in range: Range<Float>, seed: UInt64) -> [Double] {
        var generator = SeededGenerator(seed: seed)
        return (0..<count).map { _ in Double(generator.nextFloat(in: range)) }
    }

    @Test func separatedScoresAreAlwaysCaught() throws {
        let members = uniform(100, in: 0..<1, seed: 1)
        let nonMembers = uniform(100, in: 10..<11, seed: 2)
        let report = try MembershipInference.attack(members: members, nonMembers: nonMembers, seed: 7)
        #expect(report.splitAccuracies.count == 5)
        #expect(report.samplesPerSide == 100)
        #expect(report.testSamplesPerSide == 10)
        #expect(report.accuracy > 0.999)
    }

    @Test(arguments: [UInt64(1), 2, 3])
    func identicallyDistributedScoresAreAGuess(seed: UInt64) throws {
        let members = gaussian(500, seed: seed)
        let nonMembers = gaussian(500, seed: seed + 100)
        let accuracy = try MembershipInference.attackAccuracy(members: members, nonMembers: nonMembers, seed: seed)
        #expect(abs(accuracy - 0.5) < 0.1)
    }

    @Test func shiftedScoresArePartlyCaught() throws {
        // One standard deviation apart: the best threshold gets Φ(0.5) ≈ 0.69.
        let accuracy = try MembershipInference.attackAccuracy(
            members: gaussian(1000, mean: 0, seed: 4), nonMembers: gaussian(1000, mean: 1, seed: 5), seed: 3)
        #expect(abs(accuracy - 0.69) < 0.06)
    }

    @Test func sameSeedGivesTheSameReport() throws {
        let members = gaussian(200, mean: 0.3, seed: 8)
        let nonMembers = gaussian(350, seed: 9)
        let first = try MembershipInference.attack(members: members, nonMembers: nonMembers, seed: 11)
        let second = try MembershipInference.attack(members: members, nonMembers: nonMembers, seed: 11)
        #expect(first == second)
        let other = try MembershipInference.attack(members: members, nonMembers: nonMembers, seed: 12)
        #expect(other.splitAccuracies != first.splitAccuracies)
    }

    @Test func largerSideIsSubsampledToTheSmaller() throws {
        let members = (0..<30).map(Double.init)
        let nonMembers = (0..<200).map { 1000 + Double($0) }
        let (keptMembers, keptNonMembers) = MembershipInference.balanced(
            members: members, nonMembers: nonMembers, seed: 5)
        #expect(keptMembers == members)
        #expect(keptNonMembers.count == 30)
        #expect(Set(keptNonMembers).count == 30)
        #expect(keptNonMembers.allSatisfy { nonMembers.contains($0) })
        #expect(keptNonMembers == keptNonMembers.sorted())
        #expect(keptNonMembers != Array(nonMembers.prefix(30)))  // a random subset, not the first 30
        let again = MembershipInference.balanced(members: members, nonMembers: nonMembers, seed: 5)
        #expect(again.nonMembers == keptNonMembers)

        let swapped = MembershipInference.balanced(members: nonMembers, nonMembers: members, seed: 5)
        #expect(swapped.members.count == 30 && swapped.nonMembers == members)
    }

    @Test func imbalancedSetsAreBalancedBeforeTheAttack() throws {
        // Unbalanced, always guessing "non-member" would score ≈ 0.98 on stratified held-out samples.
        let members = gaussian(100, seed: 21)
        let nonMembers = gaussian(5000, seed: 22)
        let report = try MembershipInference.attack(members: members, nonMembers: nonMembers, seed: 1)
        #expect(report.samplesPerSide == 100)
        #expect(report.testSamplesPerSide == 10)
        #expect(report.accuracy < 0.7)
    }

    @Test func tooFewSamplesThrow() throws {
        let nine = gaussian(9, seed: 1)
        let fifty = gaussian(50, seed: 2)
        #expect(throws: MembershipInferenceError.tooFewSamples(members: 9, nonMembers: 50, minimum: 10)) {
            try MembershipInference.attackAccuracy(members: nine, nonMembers: fifty, seed: 1)
        }
        #expect(throws: MembershipInferenceError.tooFewSamples(members: 50, nonMembers: 0, minimum: 10)) {
            try MembershipInference.attackAccuracy(members: fifty, nonMembers: [], seed: 1)
        }
        let error = MembershipInferenceError.tooFewSamples(members: 9, nonMembers: 50, minimum: 10)
        #expect(error.description.contains("at least 10"))

        let report = try MembershipInference.attack(
            members: gaussian(10, seed: 3), nonMembers: gaussian(10, seed: 4), seed: 1)
        #expect(report.testSamplesPerSide == 1)
        #expect(report.accuracy >= 0 && report.accuracy <= 1)
    }

    @Test func nonFiniteScoresThrow() {
        var members = gaussian(20, seed: 1)
        members[3] = .nan
        #expect(throws: MembershipInferenceError.nonFiniteScore) {
            try MembershipInference.attackAccuracy(members: members, nonMembers: gaussian(20, seed: 2), seed: 1)
        }
    }

    @Test(arguments: [2, 10, 100])
    func entropyOfUniformLogitsIsLogC(classes: Int) {
        let logits = Tensor(repeating: 1.5, shape: [3, classes])
        let entropies = MembershipInference.entropy(ofSoftmaxRows: logits)
        #expect(entropies.count == 3)
        #expect(entropies.allSatisfy { abs($0 - log(Double(classes))) < 1e-9 })
    }

    @Test func entropyHandExamples() {
        // softmax([ln 3, 0]) = (3/4, 1/4); a very confident row has entropy ≈ 0.
        let logits = Tensor(shape: [2, 2], scalars: [Float(log(3.0)), 0, 100, 0])
        let entropies = MembershipInference.entropy(ofSoftmaxRows: logits)
        #expect(abs(entropies[0] - -(0.75 * log(0.75) + 0.25 * log(0.25))) < 1e-6)
        #expect(entropies[1] >= 0 && entropies[1] < 1e-30)
    }

    @Test func featuresComeFromPredictions() {
        let logits = Tensor(shape: [2, 3], scalars: [0, 0, 0, 2, 1, 0])
        let predictions = Evaluator.Predictions(
            labels: [0, 1], predicted: [0, 0], losses: [1.5, 0.25], logits: logits)
        #expect(MembershipInference.features(.loss, of: predictions) == [1.5, 0.25])
        let entropies = MembershipInference.features(.entropy, of: predictions)
        #expect(entropies == MembershipInference.entropy(ofSoftmaxRows: logits))
        #expect(abs(entropies[0] - log(3)) < 1e-9)
    }
}
