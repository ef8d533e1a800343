import LetheTesting
import NN
import Tensor
import Testing

/// Finite-difference checks of every differentiable layer and loss on small random inputs.
struct GradientCheckTests {
    func random(_ shape: [Int], seed: UInt64 = 1) -> Tensor {
        var generator = SeededGenerator(seed: seed)
        return Tensor.uniform(shape: shape, in: -1..<1, using: &generator)
    }

    func expectPasses(_ layer: Layer, _ input: Tensor, mode: ForwardMode = .train(), step: Float = 1e-3) {
        let failures = GradientCheck.check(layer, input: input, mode: mode, step: step)
        #expect(failures.isEmpty, "\(type(of: layer)): \(failures.prefix(5))")
    }

    @Test func linear() {
        var generator = SeededGenerator(seed: 2)
        expectPasses(Linear(6, 4, using: &generator), random([3, 6]))
    }

    @Test(arguments: [(3, 1, 1), (3, 2, 0), (1, 2, 0), (5, 1, 2), (7, 2, 3)])
    func conv2d(kernel: Int, stride: Int, padding: Int) {
        var generator = SeededGenerator(seed: 3)
        let layer = Conv2d(2, 3, kernel: kernel, stride: stride, padding: padding, using: &generator)
        expectPasses(layer, random([2, 2, 8, 8]))
    }

    /// 3×3 convolutions over few channels on planes at least 16 wide run directly (`Conv2d+Direct`): input, weight
    /// and bias gradients, on a width that is a multiple of 16 and on one that is not.
    @Test(arguments: [(1, 4, 6, 16), (3, 2, 5, 18)])
    func directConv2d(inChannels: Int, outChannels: Int, height: Int, width: Int) {
        var generator = SeededGenerator(seed: 13)
        let layer = Conv2d(inChannels, outChannels, kernel: 3, padding: 1, using: &generator)
        expectPasses(layer, random([2, inChannels, height, width]))
    }

    @Test func conv2dWithoutBias() {
        var generator = SeededGenerator(seed: 4)
        expectPasses(
            Conv2d(3, 2, kernel: 3, stride: 1, padding: 1, bias: false, using: &generator), random([2, 3, 5, 5]))
    }

    @Test func relu() {
        // Keep inputs away from the kink at 0, where the derivative is undefined.
        let input = random([2, 3, 4, 4]).map { $0 < 0 ? $0 - 0.05 : $0 + 0.05 }
        expectPasses(ReLU(), input)
    }

    @Test(arguments: [(2, 2, 0), (3, 2, 1)])
    func maxPool(kernel: Int, stride: Int, padding: Int) {
        // Distinct, well separated values keep the arg-max stable under the finite-difference step.
        var generator = SeededGenerator(seed: 5)
        let order = generator.permutation(2 * 2 * 6 * 6)
        let input = Tensor(shape: [2, 2, 6, 6], scalars: order.map { Float($0) * 0.1 })
        expectPasses(MaxPool2d(kernel: kernel, stride: stride, padding: padding), input)
    }

    @Test func adaptiveAvgPool() { expectPasses(AdaptiveAvgPool2d(), random([2, 3, 4, 4])) }

    @Test func flatten() { expectPasses(Flatten(), random([2, 3, 2, 2])) }

    @Test func batchNormTraining() {
        let layer = BatchNorm2d(3)
        layer.weight.value = random([3], seed: 9) + Tensor(repeating: 1, shape: [3])
        layer.bias.value = random([3], seed: 10)
        expectPasses(layer, random([4, 3, 3, 3]))
    }

    @Test func batchNormEval() {
        let layer = BatchNorm2d(3)
        layer.runningMean.value = random([3], seed: 11)
        layer.runningVar.value = Tensor(repeating: 0.5, shape: [3])
        expectPasses(layer, random([2, 3, 3, 3]), mode: .eval)
    }

    @Test func dropoutUsesItsMaskInBackward() {
        expectPasses(Dropout(probability: 0.3, salt: 1), random([4, 10]), mode: .train(seed: 42))
    }

    // Composites have many ReLU inputs near 0, so they use a smaller step; train-mode batch statistics over
    // a handful of values are too ill-conditioned for float32 differences, so they are checked in eval mode
    // (train-mode BatchNorm is checked alone above and against PyTorch's ResNet gradients in the parity tests).
    @Test(arguments: [1, 2])
    func basicBlock(stride: Int) {
        var generator = SeededGenerator(seed: 6)
        let block = BasicBlock(inPlanes: 2, planes: stride == 1 ? 2 : 4, stride: stride, using: &generator)
        expectPasses(block, random([3, 2, 6, 6]), mode: .eval, step: 3e-4)
    }

    @Test func wholeModelParametersAndInput() {
        let model = ModelZoo.resnet18(seed: 1, width: 2, classes: 3, inputShape: [1, 8, 8])
        expectPasses(model.root, random([3, 1, 8, 8]), mode: .eval, step: 3e-4)
    }

    // Losses: compare the returned gradient with central differences of the returned value.
    func lossGradientFailures(_ input: Tensor, step: Float = 1e-2, _ loss: (Tensor) -> LossResult) -> [String] {
        let analytic = loss(input).gradient
        var failures: [String] = []
        for i in 0..<input.count {
            var x = input
            x.scalars[i] += step
            let plus = Double(loss(x).value)
            x.scalars[i] -= 2 * step
            let minus = Double(loss(x).value)
            let numeric = Float((plus - minus) / Double(2 * step))
            if abs(numeric - analytic.scalars[i]) > 1e-2 * max(1, abs(numeric)) {
                failures.append("[\(i)] analytic \(analytic.scalars[i]) numeric \(numeric)")
            }
        }
        return failures
    }

    @Test func crossEntropyGradient() {
        let logits = random([4, 5])
        #expect(lossGradientFailures(logits) { crossEntropy(logits: $0, labels: [0, 3, 4, 1]) }.isEmpty)
        #expect(
            lossGradientFailures(logits) { crossEntropy(logits: $0, labels: [2, 2, 0, 1], labelSmoothing: 0.1) }.isEmpty
        )
        #expect(
            lossGradientFailures(logits) { crossEntropy(logits: $0, labels: [0, 1, 2, 3], reduction: .sum) }.isEmpty)
    }

    @Test func klDivergenceGradient() {
        let teacher = random([3, 4], seed: 8)
        #expect(
            lossGradientFailures(random([3, 4])) { klDivergence(student: $0, teacher: teacher, temperature: 4) }.isEmpty
        )
        #expect(lossGradientFailures(random([3, 4])) { klDivergence(student: $0, teacher: teacher) }.isEmpty)
    }

    @Test func meanSquaredErrorGradient() {
        let target = random([3, 4], seed: 12)
        #expect(lossGradientFailures(random([3, 4])) { meanSquaredError(prediction: $0, target: target) }.isEmpty)
    }
}
