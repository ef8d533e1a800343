import Data
import LetheTesting
import NN
import Tensor
import Testing
import Unlearning

/// The step kinds GKT adds to the plan machinery: input gradients of a distillation term that flow through the
/// teacher as well as the student, and attention-transfer terms summed over shards.
struct GeneratedInputStepTests {
    /// A smooth (kink-free) convolutional model on 8×8 images.
    static func model(seed: UInt64) -> Model {
        var generator = SeededGenerator(seed: seed)
        return Model(
            architecture: "smooth-cnn", inputShape: [1, 8, 8], classCount: 4,
            root: Sequential([
                ("conv1", Conv2d(1, 3, kernel: 3, padding: 1, using: &generator)), (nil, LeakyReLU(slope: 0.5)),
                (nil, Flatten()), ("fc", Linear(192, 4, using: &generator)),
            ]))
    }

    let teacher = model(seed: 1)
    let images: Tensor = {
        var generator = SeededGenerator(seed: 9)
        return Tensor.normal(shape: [6, 1, 8, 8], using: &generator)
    }()

    func executor(shards: Int) -> LocalExecutor {
        LocalExecutor(
            dataset: labelledDataset(perClass: [2, 2, 2, 2]), shards: shards, original: teacher,
            architecture: Self.model)
    }

    func outcome(_ step: GradientStep, images: Tensor, shards: Int = 1) throws -> (StepOutcome, Model) {
        let state = PlanState(student: Self.model(seed: 2))
        state.tensors["x"] = images
        return (try executor(shards: shards).gradient(step, state: state), state.student)
    }

    func step(_ losses: [LossComponent], target: GradientTarget) -> GradientStep {
        GradientStep(
            parts: [
                BatchPart(
                    inputs: .tensorRows(name: "x", rows: Array(0..<6)), labels: [0, 1, 2, 3, 0, 1], losses: losses)
            ],
            target: target, isTraining: false, seed: 0)
    }

    @Test func distillationInputGradientsFlowThroughTheTeacherToo() throws {
        let ascent = step([.distillation(teacher: .original, temperature: 2, weight: -0.25)], target: .inputs)
        let analytic = try #require(try outcome(ascent, images: images, shards: 3).0.inputGradients[0])
        for i in stride(from: 0, to: images.count, by: 37) {
            var x = images
            x.scalars[i] += 1e-2
            let plus = try outcome(ascent, images: x).0.loss
            x.scalars[i] -= 2e-2
            let minus = try outcome(ascent, images: x).0.loss
            let numeric = Float((plus - minus) / 2e-2)
            #expect(Tolerance.isClose(analytic.scalars[i], numeric, relative: 3e-2, absolute: 2e-4), "[\(i)]")
        }
    }

    @Test func attentionTransferIsTheMeanOverRowsAndShardsAgree() throws {
        let transfer = step([.attentionTransfer(teacher: .original, layers: ["conv1"], weight: 1)], target: .parameters)
        let (whole, student) = try outcome(transfer, images: images)
        let studentTap = FeatureTap(paths: ["conv1"])
        let teacherTap = FeatureTap(paths: ["conv1"])
        _ = student.forward(images, mode: .eval, tap: studentTap)
        _ = teacher.forward(images, mode: .eval, tap: teacherTap)
        let expected = attentionTransfer(student: studentTap.features["conv1"]!, teacher: teacherTap.features["conv1"]!)
        #expect(abs(whole.loss - Double(expected.value)) < 1e-6)
        #expect(whole.loss > 0)
        let wholeGradients = student.namedParameters.map(\.parameter.grad)
        let (sharded, shardedStudent) = try outcome(transfer, images: images, shards: 3)
        #expect(abs(whole.loss - sharded.loss) < 1e-6)
        for (a, b) in zip(wholeGradients, shardedStudent.namedParameters.map(\.parameter.grad)) {
            #expect(Tolerance.mismatch(a, b, relative: 1e-4, absolute: 1e-6) == nil)
        }
    }
}
