import Testing

@testable import Unlearning

/// A finished run is judged against its forget target and the budgets before it is called a success.
struct AcceptanceTests {
    func report(forget: Double, retain: Double, test: Double, testRetain: Double? = nil) -> VerificationReport {
        VerificationReport(
            forgetAccuracy: forget, retainAccuracy: retain, testAccuracy: test, testForgetAccuracy: nil,
            testRetainAccuracy: testRetain, perClassAccuracy: [], mia: 0.5, miaEntropy: 0.5, zrf: 0.5,
            forgetSamples: 100, retainSamples: 1000, testSamples: 1000)
    }

    let defaults = try! MethodParameters(Acceptance.declarations)
    let classes = ForgetSet(selection: .classes([0]), forget: [1, 2], retain: [3, 4], forgottenClasses: [0])

    /// A run forgetting class 0, judged against the class target (with the default budgets unless given).
    func judgeClassRun(
        before: VerificationReport, after: VerificationReport, parameters: MethodParameters? = nil
    ) -> Verdict {
        Acceptance.judge(
            before: before, after: after, target: Acceptance.forgetTarget(defaults, forgetSet: classes, heldOut: nil),
            parameters: parameters ?? defaults)
    }
    let samples = ForgetSet(
        selection: .indices([1, 2]), forget: Array(0..<600), retain: [3, 4], forgottenClasses: nil)

    @Test func classForgettingPassesBelowFivePercentWithinBudget() throws {
        let target = try #require(Acceptance.forgetTarget(defaults, forgetSet: classes, heldOut: nil))
        #expect(target == Verdict.Target(accuracy: 0.05, tolerance: 0, source: "classes"))
        let before = report(forget: 0.9, retain: 0.9, test: 0.85, testRetain: 0.9)
        let passed = judgeClassRun(
            before: before, after: report(forget: 0.01, retain: 0.89, test: 0.8, testRetain: 0.88))
        #expect(passed.passed && passed.misses.isEmpty && passed.hint == nil)

        let kept = judgeClassRun(before: before, after: report(forget: 0.148, retain: 0.9, test: 0.8, testRetain: 0.9))
        #expect(!kept.passed)
        #expect(kept.misses == ["forget accuracy 14.8% is above the forget target 5.0% (classes; before: 90.0%)"])
        #expect(kept.hint?.contains("still knows the forget set") == true)
    }

    /// The retrain is the reference: a verdict that would miss (a small retain set, a held-out target off by
    /// noise) is not held against it, and says why.
    @Test func theRetrainIsTheReferenceNotJudged() throws {
        let judged = judgeClassRun(
            before: report(forget: 0.9, retain: 0.9, test: 0.8, testRetain: 0.9),
            after: report(forget: 0.0, retain: 0.8, test: 0.75, testRetain: 0.8))
        #expect(!judged.passed && judged.isReference == nil)
        let reference = judged.asReference()
        #expect(reference.passed && reference.misses.isEmpty && reference.forgetTarget == nil)
        #expect(reference.isReference == true && reference.hint == nil)
        #expect(Retrain().isReference && !NegGradPlus().isReference)
    }

    @Test func aRunThatDamagesTheRestFailsWithItsFigures() throws {
        // neggrad on a ResNet: retain 83.8% → 53.3%.
        let (before, after) = (
            report(forget: 0.9, retain: 0.838, test: 0.8, testRetain: 0.83),
            report(forget: 0.0, retain: 0.533, test: 0.5, testRetain: 0.52)
        )
        let verdict = judgeClassRun(before: before, after: after)
        #expect(!verdict.passed)
        #expect(
            verdict.misses == [
                "retain accuracy fell 30.5 points (83.8% → 53.3%), more than max-retain-drop 5.0",
                "test accuracy on the retained classes fell 31.0 points, more than max-test-drop 5.0",
            ])
        #expect(verdict.hint?.contains("lower the method's lr") == true)
        // A wider budget, given as parameters, lets it pass.
        let lenient = try MethodParameters(
            Acceptance.declarations, overrides: ["max-retain-drop": "0.4", "max-test-drop": "0.4"])
        #expect(judgeClassRun(before: before, after: after, parameters: lenient).passed)
    }

    @Test func sampleForgettingIsJudgedAgainstHeldOutAccuracyWithSamplingNoise() throws {
        // p = 0.9 on 400 held-out samples, 600 forget samples: SE = sqrt(0.09 · (1/400 + 1/600)) = 0.019365.
        let target = try #require(
            Acceptance.forgetTarget(defaults, forgetSet: samples, heldOut: (0.9, 400, "validation")))
        #expect(target.accuracy == 0.9 && target.source == "validation")
        #expect(abs(target.tolerance - 2 * 0.019365) < 1e-5)
        let before = report(forget: 0.99, retain: 0.99, test: 0.9)
        #expect(
            Acceptance.judge(
                before: before, after: report(forget: 0.93, retain: 0.98, test: 0.9), target: target,
                parameters: defaults
            ).passed)
        #expect(
            !Acceptance.judge(
                before: before, after: report(forget: 0.95, retain: 0.98, test: 0.9), target: target,
                parameters: defaults
            ).passed)
        // Without held-out samples there is no target: the forget set is not judged (the report says so).
        #expect(Acceptance.forgetTarget(defaults, forgetSet: samples, heldOut: nil) == nil)
    }

    @Test func stopAccuracyFixesTheTarget() throws {
        let scrub = try MethodParameters(
            #require(UnlearningMethods.named("scrub")).allParameters, overrides: ["stop-accuracy": "0.918"])
        let target = try #require(Acceptance.forgetTarget(scrub, forgetSet: samples, heldOut: (0.5, 10, "test")))
        #expect(target == Verdict.Target(accuracy: 0.918, tolerance: 0, source: "stop-accuracy"))
    }

    /// A classifier's verification measures the retain accuracy on a seeded sample of 10,000 unless told
    /// otherwise (0: every retained sample); other negative values than the automatic -1 are refused.
    @Test func theRetainSampleIsAutomaticUnlessGiven() throws {
        #expect(Acceptance.retainSample(defaults) == Acceptance.automaticRetainSample)
        #expect(Acceptance.automaticRetainSample == 10_000)
        for (given, expected) in [("0", 0), ("300", 300), ("-1", 10_000)] {
            let parameters = try MethodParameters(Acceptance.declarations, overrides: ["verify-retain": given])
            #expect(Acceptance.retainSample(parameters) == expected)
        }
        #expect(throws: MethodParameterError.self) {
            try MethodParameters(Acceptance.declarations, overrides: ["verify-retain": "-2"])
        }
        let measurement = RetainMeasurement(
            retain: Array(0..<48_600), sampleSize: Acceptance.retainSample(defaults), seed: 1)
        #expect(measurement.indices.count == 10_000 && measurement.isSample)
        #expect(RetainMeasurement(retain: Array(0..<500), sampleSize: 10_000, seed: 1).isSample == false)
    }

    @Test func aMethodsOwnDeclarationOfABudgetWins() throws {
        let ssd = try #require(UnlearningMethods.named("ssd"))
        #expect(ssd.allParameters.filter { $0.key == "max-retain-drop" }.count == 1)
        #expect(ssd.allParameters.contains { $0.key == "max-test-drop" })
        #expect(ssd.allParameters.contains { $0.key == "keep-failed" })
    }
}
