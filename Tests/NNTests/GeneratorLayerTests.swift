import Checkpoint
import Foundation
import LetheTesting
import NN
import Tensor
import Testing

/// The layers and losses gated knowledge transfer added: finite differences, and PyTorch's values made by
/// scripts/gkt_parity.py (Tests/NNTests/Fixtures/gkt_layers.safetensors; relative 1e-4, absolute 1e-5).
struct GeneratorLayerTests {
    func random(_ shape: [Int], seed: UInt64 = 1) -> Tensor {
        var generator = SeededGenerator(seed: seed)
        return Tensor.uniform(shape: shape, in: -1..<1, using: &generator)
    }

    func expectPasses(_ layer: Layer, _ input: Tensor) {
        let failures = GradientCheck.check(layer, input: input)
        #expect(failures.isEmpty, "\(type(of: layer)): \(failures.prefix(5))")
    }

    func fixture() throws -> SafetensorsFile {
        try SafetensorsFile(
            contentsOf: Fixtures.packageRoot.appendingPathComponent("Tests/NNTests/Fixtures/gkt_layers.safetensors"))
    }

    func expectClose(_ actual: Tensor, _ expected: Tensor, _ what: String) {
        #expect(actual.shape == expected.shape, "\(what): shape \(actual.shape) vs \(expected.shape)")
        let mismatch = Tolerance.mismatch(actual, expected, relative: 1e-4)
        #expect(mismatch == nil, "\(what): \(mismatch ?? "")")
    }

    @Test func finiteDifferences() {
        expectPasses(Upsample(factor: 2), random([2, 3, 3, 4]))
        expectPasses(Unflatten([2, 2, 3]), random([3, 12]))
        // Keep inputs away from the kink at 0.
        expectPasses(LeakyReLU(slope: 0.2), random([2, 3, 4, 4]).map { $0 < 0 ? $0 - 0.05 : $0 + 0.05 })
        let norm = BatchNorm2d(1)
        norm.weight.value = Tensor(shape: [1], scalars: [1.3])
        norm.bias.value = Tensor(shape: [1], scalars: [-0.2])
        expectPasses(norm, random([4, 1, 3, 3]))
    }

    @Test func lossGradients() {
        let teacherFeatures = random([3, 4, 3, 3], seed: 5)
        let student = random([3, 4, 3, 3], seed: 6)
        let analytic = attentionTransfer(student: student, teacher: teacherFeatures).gradient
        for i in stride(from: 0, to: student.count, by: 3) {
            var x = student
            x.scalars[i] += 1e-2
            let plus = Double(attentionTransfer(student: x, teacher: teacherFeatures).value)
            x.scalars[i] -= 2e-2
            let minus = Double(attentionTransfer(student: x, teacher: teacherFeatures).value)
            let numeric = Float((plus - minus) / 2e-2)
            #expect(Tolerance.isClose(analytic.scalars[i], numeric, relative: 2e-2, absolute: 1e-4), "AT [\(i)]")
        }
        let studentLogits = random([3, 5], seed: 7)
        let teacherLogits = random([3, 5], seed: 8)
        for temperature: Float in [1, 4] {
            let analyticTeacher = klDivergenceTeacherGradient(
                student: studentLogits, teacher: teacherLogits, temperature: temperature)
            for i in 0..<teacherLogits.count {
                var t = teacherLogits
                t.scalars[i] += 1e-2
                let plus = Double(
                    klDivergence(student: studentLogits, teacher: t, temperature: temperature, reduction: .sum).value)
                t.scalars[i] -= 2e-2
                let minus = Double(
                    klDivergence(student: studentLogits, teacher: t, temperature: temperature, reduction: .sum).value)
                let numeric = Float((plus - minus) / 2e-2)
                #expect(Tolerance.isClose(analyticTeacher.scalars[i], numeric, relative: 2e-2, absolute: 1e-4))
            }
        }
    }

    @Test func pyTorchParity() throws {
        let f = try fixture()
        let upsample = Upsample(factor: 2)
        expectClose(
            upsample.forward(try f.required("upsample_x"), mode: .train()), try f.required("upsample_y"), "up y")
        expectClose(upsample.backward(try f.required("upsample_dy")), try f.required("upsample_dx"), "up dx")
        let leaky = LeakyReLU(slope: 0.2)
        expectClose(leaky.forward(try f.required("leaky_x"), mode: .train()), try f.required("leaky_y"), "leaky y")
        expectClose(leaky.backward(try f.required("leaky_dy")), try f.required("leaky_dx"), "leaky dx")

        let norm = BatchNorm2d(1)
        norm.weight.value = try f.required("bn1_weight")
        norm.bias.value = try f.required("bn1_bias")
        expectClose(norm.forward(try f.required("bn1_x"), mode: .train()), try f.required("bn1_y"), "bn1 y")
        expectClose(norm.backward(try f.required("bn1_dy")), try f.required("bn1_dx"), "bn1 dx")
        expectClose(norm.weight.grad, try f.required("bn1_dweight"), "bn1 dweight")
        expectClose(norm.bias.grad, try f.required("bn1_dbias"), "bn1 dbias")
        expectClose(norm.runningMean.value, try f.required("bn1_running_mean"), "bn1 running mean")
        expectClose(norm.runningVar.value, try f.required("bn1_running_var"), "bn1 running var")

        let at = attentionTransfer(student: try f.required("at_student"), teacher: try f.required("at_teacher"))
        #expect(Tolerance.isClose(at.value, try f.required("at_loss").scalars[0]))
        expectClose(at.gradient, try f.required("at_dstudent"), "at dstudent")
    }

    @Test func generatorMakesTheModelsInputs() throws {
        for shape in [[1, 28, 28], [3, 32, 32], [1, 8, 8]] {
            let generator = try ImageGenerator(imageShape: shape, seed: 1)
            var random = SeededGenerator(seed: 2)
            let images = generator(Tensor.normal(shape: [3, 128], using: &random))
            #expect(images.shape == [3] + shape)
            #expect(images.isFinite)
        }
        let names = try ImageGenerator(imageShape: [1, 28, 28], seed: 1).namedState.map(\.name)
        #expect(names.first == "layers.0.weight" && names.contains("layers.12.running_var"))
        #expect(names.contains("layers.11.weight") && names.contains("layers.2.num_batches_tracked"))
        for shape in [[1, 30, 30], [784], [3, 32, 28], [1, 4, 4]] {
            #expect(throws: GeneratorShapeError(imageShape: shape)) { try ImageGenerator(imageShape: shape, seed: 1) }
        }
    }
}
