import LetheTesting
import NN
import Testing

@testable import Unlearning

/// Held-out stand-ins matched to the forget samples' difficulty under references, by hand and in a plan.
struct DifficultyMatchTests {
    @Test func eachForgetSampleGetsTheNearestHeldOutSampleOfItsClassUnderItsOwnOutReferences() throws {
        // Forget samples 0 (label 0, OUT of references 1 and 2) and 1 (label 1, OUT of reference 0); held-out
        // samples 10, 11 (label 0) and 12, 13 (label 1), OUT of every reference.
        let labels = [0, 1] + [Int](repeating: 0, count: 8) + [0, 0, 1, 1]
        let unseen = UnseenConfidence(
            references: 3,
            phi: [
                0: [nil, 2.0, 4.0],  // mean 3 over references 1, 2
                1: [-1.0, nil, nil],  // −1 over reference 0
                10: [9.0, 3.5, 2.0],  // 2.75 over 1, 2 (9 under reference 0 does not count)
                11: [0.0, 1.0, 1.0],  // 1.0
                12: [-0.9, 5.0, 5.0],  // −0.9 over 0
                13: [-3.0, 0.0, 0.0],  // −3
            ])
        let match = try #require(
            DifficultyMatch(forget: [0, 1], candidates: [13, 12, 11, 10], labels: labels, unseen: unseen))
        #expect(match.standIns == [10, 12] && match.distinct == 2 && match.references == 3)
        #expect(abs(match.forgetMeanPhi - 1.0) < 1e-12 && abs(match.standInMeanPhi - 0.925) < 1e-12)
        // Repeats are allowed, and ties go to the lower index.
        let tied = UnseenConfidence(references: 1, phi: [0: [1.0], 1: [1.0], 10: [0.0], 11: [2.0]])
        let twice = try #require(
            DifficultyMatch(
                forget: [0, 1], candidates: [11, 10], labels: [Int](repeating: 0, count: 12), unseen: tied))
        #expect(twice.standIns == [10, 10] && twice.distinct == 1)
    }

    @Test func noMatchWithoutAnOutReferenceOrACandidateOfTheClass() {
        let labels = [0, 1, 0]
        let inEverywhere = UnseenConfidence(references: 2, phi: [0: [nil, nil], 2: [1.0, 1.0]])
        #expect(DifficultyMatch(forget: [0], candidates: [2], labels: labels, unseen: inEverywhere) == nil)
        let otherClass = UnseenConfidence(references: 1, phi: [1: [1.0], 2: [1.0]])
        #expect(DifficultyMatch(forget: [1], candidates: [2], labels: labels, unseen: otherClass) == nil)
    }

    @Test func calibratedRelabelCalibratesAndTheTargetIsMeasuredOnTheStandIns() throws {
        let toy = ToyProblem()
        let plain = try toy.problem(CalibratedRelabel(), .fraction(0.2, seed: 4))
        let candidates = plain.forgetLikeValidation
        // Every held-out sample is OUT of the single reference; the forget samples' φ picks the first candidate
        // of their class as every forget sample's stand-in.
        var phi = [Int: [Double?]]()
        for (rank, index) in candidates.enumerated() { phi[index] = [Double(rank)] }
        for index in plain.forgetSet.forget { phi[index] = [-1] }
        let matched = UnlearningProblem(
            train: plain.train, forgetSet: plain.forgetSet, validation: plain.validation,
            parameters: plain.parameters, seed: 1, recipe: plain.recipe, architecture: plain.architecture,
            unseen: UnseenConfidence(references: 1, phi: phi))
        let match = try #require(matched.difficultyMatch)
        let firstOfClass = { (label: Int) in candidates.first { toy.train.labels[$0] == label }! }
        #expect(match.standIns == plain.forgetSet.forget.map { firstOfClass(toy.train.labels[$0]) })
        #expect(matched.forgetStandIns == match.standIns && plain.forgetStandIns == candidates)
        let gate = try CalibratedRelabel.Gate(problem: matched, minimumTarget: 0, calibrationSamples: 1000)
        #expect(gate.heldOut == match.standIns)
        // Classes and mislabelled data are not matched.
        let classes = try toy.problem(CalibratedRelabel(), .classes([1]))
        let classProblem = UnlearningProblem(
            train: classes.train, forgetSet: classes.forgetSet, validation: classes.validation,
            parameters: classes.parameters, seed: 1, recipe: classes.recipe, architecture: classes.architecture,
            unseen: UnseenConfidence(references: 1, phi: phi))
        #expect(classProblem.difficultyMatch == nil)
    }
}
