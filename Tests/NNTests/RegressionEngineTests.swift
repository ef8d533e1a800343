import Checkpoint
import Foundation
import LetheTesting
import NN
import Tensor
import Testing

/// What regression added to the engine: L1 (and MSE) losses, attention maps and the attention difference against
/// stored maps, and regression heads. Finite differences, and PyTorch's values made by
/// scripts/blindspot_parity.py (Tests/NNTests/Fixtures/regression.safetensors; relative 1e-4, absolute 1e-5).
struct RegressionEngineTests {
    func random(_ shape: [Int], seed: UInt64 = 1) -> Tensor {
        var generator = SeededGenerator(seed: seed)
        return Tensor.uniform(shape: shape, in: -1..<1, using: &generator)
    }

    func fixture() throws -> SafetensorsFile {
        try SafetensorsFile(
            contentsOf: Fixtures.packageRoot.appendingPathComponent("Tests/NNTests/Fixtures/regression.safetensors"))
    }

    func expectClose(_ actual: Tensor, _ expected: Tensor, _ what: String) {
        #expect(actual.shape == expected.shape, "\(what): shape \(actual.shape) vs \(expected.shape)")
        let mismatch = Tolerance.mismatch(actual, expected, relative: 1e-4)
        #expect(mismatch == nil, "\(what): \(mismatch ?? "")")
    }

    /// Central differences of `loss` at every `stride`-th element of `input` against its analytic gradient.
    func gradientFailures(_ input: Tensor, stride step: Int = 1, _ loss: (Tensor) -> LossResult) -> [String] {
        let analytic = loss(input).gradient
        var failures: [String] = []
        for i in Swift.stride(from: 0, to: input.count, by: step) {
            var x = input
            x.scalars[i] += 1e-3
            let plus = Double(loss(x).value)
            x.scalars[i] -= 2e-3
            let minus = Double(loss(x).value)
            let numeric = Float((plus - minus) / 2e-3)
            if !Tolerance.isClose(analytic.scalars[i], numeric, relative: 2e-2, absolute: 2e-4) {
                failures.append("[\(i)] analytic \(analytic.scalars[i]) numeric \(numeric)")
            }
        }
        return failures
    }

    @Test func absoluteErrorGradientMatchesFiniteDifferences() {
        let target = random([4, 3], seed: 2)
        // Keep every prediction at least 0.05 from its target: |d| has a kink at 0.
        let prediction = Tensor(
            shape: [4, 3],
            scalars: zip(random([4, 3], seed: 3).scalars, target.scalars).map { p, t in
                abs(p - t) < 0.05 ? t + 0.1 : p
            })
        for reduction in [Reduction.mean, .sum] {
            let failures = gradientFailures(prediction) {
                meanAbsoluteError(prediction: $0, target: target, reduction: reduction)
            }
            #expect(failures.isEmpty, "\(reduction): \(failures.prefix(3))")
        }
    }

    @Test func absoluteErrorHasNoGradientWherePredictionIsExact() {
        let result = meanAbsoluteError(
            prediction: Tensor(shape: [2, 1], scalars: [0.5, 2]), target: Tensor(shape: [2, 1], scalars: [0.5, 1]),
            reduction: .sum)
        #expect(result.gradient.scalars == [0, 1])
        #expect(Tolerance.isClose(result.value, 1))
        #expect(result.perSample.count == 2)
    }

    @Test func attentionToStoredMapsMatchesFiniteDifferencesAndTheFeatureForm() {
        let student = random([3, 4, 3, 3], seed: 6)
        let teacherFeatures = random([3, 4, 3, 3], seed: 5)
        let maps = attentionMaps(teacherFeatures)
        let failures = gradientFailures(student, stride: 3) { attentionTransfer(student: $0, teacherMaps: maps) }
        #expect(failures.isEmpty, "\(failures.prefix(3))")
        // Against the teacher's maps it is the attention transfer against the teacher's features.
        let stored = attentionTransfer(student: student, teacherMaps: maps, reduction: .sum)
        let direct = attentionTransfer(student: student, teacher: teacherFeatures, reduction: .sum)
        #expect(Tolerance.isClose(stored.value, direct.value, relative: 1e-5))
        #expect(Tolerance.mismatch(stored.gradient, direct.gradient, relative: 1e-4) == nil)
    }

    @Test func lossesAndMapsMatchPyTorch() throws {
        let f = try fixture()
        let l1 = meanAbsoluteError(prediction: try f.required("l1_pred"), target: try f.required("l1_target"))
        expectClose(Tensor(shape: [1], scalars: [l1.value]), try f.required("l1_loss"), "l1 loss")
        expectClose(l1.gradient, try f.required("l1_dpred"), "l1 gradient")
        let mse = meanSquaredError(prediction: try f.required("mse_pred"), target: try f.required("mse_target"))
        expectClose(Tensor(shape: [1], scalars: [mse.value]), try f.required("mse_loss"), "mse loss")
        expectClose(mse.gradient, try f.required("mse_dpred"), "mse gradient")
        expectClose(attentionMaps(try f.required("maps_x")), try f.required("maps_y"), "attention maps")
        let at = attentionTransfer(student: try f.required("atm_student"), teacherMaps: try f.required("atm_maps"))
        expectClose(Tensor(shape: [1], scalars: [at.value]), try f.required("atm_loss"), "attention difference")
        expectClose(at.gradient, try f.required("atm_dstudent"), "attention difference gradient")
    }

    @Test func regressionHeadMatchesPyTorch() throws {
        let f = try fixture()
        let head = Linear(weight: try f.required("head_weight"), bias: try f.required("head_bias"))
        expectClose(head.forward(try f.required("head_x"), mode: .eval), try f.required("head_y"), "head outputs")
        expectClose(head.backward(try f.required("head_dy")), try f.required("head_dx"), "head input gradient")
        expectClose(head.weight.grad, try f.required("head_dweight"), "head weight gradient")
    }

    @Test func regressionSpecsBuildRegressionHeads() throws {
        let model = try ModelSpec.build("fmnist-cnn:regression=2", seed: 1)
        #expect(model.head == .regression(outputs: 2))
        #expect(model.architecture == "fmnist-cnn:regression=2")
        #expect(model.forward(Tensor(zeros: [3, 1, 28, 28]), mode: .inference).shape == [3, 2])
        #expect(try ModelSpec.build("fmnist-mlp:regression=1", seed: 1).classCount == 1)
        #expect(try ModelSpec.build("fmnist-cnn", seed: 1).head == .classification)
        // The classifier's weights (and so its hashes) do not change: same initialisation, same names.
        let classifier = try ModelSpec.build("fmnist-cnn", seed: 7)
        let regressor = try ModelSpec.build("fmnist-cnn:regression=10", seed: 7)
        #expect(BitHash.of(classifier.stateDict().map(\.tensor)) == BitHash.of(regressor.stateDict().map(\.tensor)))
        #expect(throws: ModelSpecError.self) { try ModelSpec.build("fmnist-cnn:regression=0", seed: 1) }
        #expect(throws: ModelSpecError.self) { try ModelSpec.build("fmnist-cnn:regresion=1", seed: 1) }
    }
}
