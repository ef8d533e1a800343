import LetheTesting
import NN
import Testing

@testable import Unlearning

/// `calibrated-relabel`'s per-sample gate, by hand and wired into the plan on the toy problem.
struct CalibratedRelabelTests {
    let toy = ToyProblem()

    @Test func targetsAreHeldOutLossesAtTheSameQuantile() {
        // Ranks by loss: 0.01 (#2), 0.05 (#0), 0.3 (#3), 0.5 (#1) → quantiles ⅛, ⅜, ⅝, ⅞ → held-out positions
        // 0.375, 1.125, 1.875, 2.625 of [0.1, 0.2, 1.0, 2.0].
        let losses: [Float] = [0.05, 0.5, 0.01, 0.3]
        let targets = CalibrationGate.targets(forgetLosses: losses, heldOutLosses: [1.0, 0.1, 2.0, 0.2])
        let expected = [0.3, 1.625, 0.1375, 0.9]
        for (target, value) in zip(targets, expected) { #expect(abs(target - value) < 1e-6, "\(targets)") }
        // Above 0.7 and not reached yet: #1 (0.5 < 1.625) and #3 (0.3 < 0.9).
        #expect(CalibrationGate.active(losses: losses, targets: targets, minimumTarget: 0.7) == [1, 3])
        // A sample already past its target is left alone.
        #expect(CalibrationGate.active(losses: [0.05, 2, 0.01, 0.3], targets: targets, minimumTarget: 0.7) == [3])
        #expect(CalibrationGate.active(losses: losses, targets: targets, minimumTarget: 0) == [0, 1, 2, 3])
        #expect(CalibrationGate.stillPredicted(labels: [1, 2, 3], predicted: [1, 0, 3]) == [0, 2])
    }

    @Test func quantilesOfOneAndTiedValues() {
        #expect(CalibrationGate.quantile([4], 0.3) == 4)
        #expect(CalibrationGate.targets(forgetLosses: [1, 1, 1], heldOutLosses: [2]) == [2, 2, 2])
        let tied = CalibrationGate.targets(forgetLosses: [0.5, 0.5], heldOutLosses: [0, 1])
        #expect(abs(tied[0] - 0.25) < 1e-12 && abs(tied[1] - 0.75) < 1e-12)  // ties keep the samples' order
    }

    @Test func thePlanPushesExactlyTheSamplesTheGateChoosesFromTheOriginal() throws {
        let params = ["steps": "1", "refresh": "1", "min-target-loss": "0"]
        let (original, _, forgetSet, state) = try toy.run(
            "calibrated-relabel", .fraction(0.2, seed: 4), params: params)
        let problem = try toy.problem(CalibratedRelabel(), .fraction(0.2, seed: 4), params: params)
        let forget = Evaluator.predict(original, on: toy.train, indices: forgetSet.forget)
        let heldOut = Evaluator.predict(original, on: toy.train, indices: problem.forgetLikeValidation)
        let targets = CalibrationGate.targets(forgetLosses: forget.losses, heldOutLosses: heldOut.losses)
        let expected = CalibrationGate.active(losses: forget.losses, targets: targets, minimumTarget: 0)
        #expect(!expected.isEmpty)
        let active = try #require(state.labels[CalibratedRelabel.activeKey])
        #expect(active.sorted() == expected.map { forgetSet.forget[$0] })
        // Each is relabelled with its runner-up class, never its own.
        let labels = try #require(state.labels[CalibratedRelabel.labelsKey])
        #expect(zip(active, labels).allSatisfy { toy.train.labels[$0] != $1 })
    }

    @Test func withNoSampleActiveItOnlyDescendsTheRetainSet() throws {
        // No held-out loss exceeds 1e6: nothing is ever active, so every step is a retain step and no forget
        // sample is read after the measurements.
        let params = ["min-target-loss": "1000000", "steps": "4", "refresh": "2"]
        let (original, student, forgetSet, state) = try toy.run(
            "calibrated-relabel", .fraction(0.2, seed: 4), params: params)
        #expect(state.labels[CalibratedRelabel.activeKey] == [] && state.scalars[CalibratedRelabel.activeCountKey] == 0)
        #expect(BitHash.of(student.stateDict().map(\.tensor)) != BitHash.of(original.stateDict().map(\.tensor)))
        let plan = try CalibratedRelabel().plan(
            for: try toy.problem(CalibratedRelabel(), .fraction(0.2, seed: 4), params: params))
        let step = try #require(plan.phases[1] as? GradientPhase).makeStep(0, state)
        #expect(step.parts.count == 1 && step.parts[0].inputs == .samples(step.parts[0].inputs.retained(forgetSet)))
    }

    @Test func sameSeedAndShardsGiveTheSameBits() throws {
        let params = ["steps": "12", "refresh": "4", "min-target-loss": "0", "retain-batch": "32"]
        let first = try toy.run("calibrated-relabel", .fraction(0.2, seed: 4), params: params, shards: 3).student
        let second = try toy.run("calibrated-relabel", .fraction(0.2, seed: 4), params: params, shards: 3).student
        #expect(BitHash.of(first.stateDict().map(\.tensor)) == BitHash.of(second.stateDict().map(\.tensor)))
    }

    @Test func itRefusesWithoutHeldOutSamplesAndForMislabelledData() throws {
        let problem = try toy.problem(CalibratedRelabel(), .fraction(0.2, seed: 4))
        let withoutValidation = UnlearningProblem(
            train: problem.train, forgetSet: problem.forgetSet, validation: [], parameters: problem.parameters,
            seed: 1, recipe: problem.recipe, architecture: problem.architecture)
        let refusal = #expect(throws: MethodNotApplicable.self) {
            try CalibratedRelabel().plan(for: withoutValidation)
        }
        #expect(refusal?.description.contains("--holdout test-half") == true)
        let confused = ForgetSet(
            selection: .confusion(classes: [3, 5], count: 2), forget: [1, 2], retain: [3, 4], forgottenClasses: nil)
        let confusion = UnlearningProblem(
            train: problem.train, forgetSet: confused, validation: problem.validation, parameters: problem.parameters,
            seed: 1, recipe: problem.recipe, architecture: problem.architecture)
        #expect(throws: MethodNotApplicable.self) { try CalibratedRelabel().plan(for: confusion) }
    }
}

extension InputSource {
    /// The samples among `forgetSet`'s retain set (all of them for a retain batch).
    fileprivate func retained(_ forgetSet: ForgetSet) -> [Int] {
        guard case .samples(let indices) = self else { return [] }
        return indices.filter(Set(forgetSet.retain).contains)
    }
}

/// `lethe unlearn` without `--method`: a recommended, existing method for every kind of selection.
struct MethodChoiceTests {
    @Test func everyKindOfSelectionHasAnExistingRecommendedMethod() {
        #expect(
            MethodChoice.recommended(for: ForgetSelection.fraction(0.01, seed: 1).kind).method == "calibrated-relabel")
        #expect(MethodChoice.recommended(for: ForgetSelection.indices([3]).kind).method == "calibrated-relabel")
        for kind in [ForgetSelection.Kind.classes, .samples, .confusion] {
            let choice = MethodChoice.recommended(for: kind)
            #expect(UnlearningMethods.named(choice.method) != nil && choice.chosenBy == "default")
        }
        #expect(
            MethodChoice.given("scrub")
                == MethodChoice(method: "scrub", chosenBy: "--method", reason: "named with --method"))
    }
}
