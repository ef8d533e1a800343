import LetheTesting
import NN
import Tensor
import Testing

@testable import ONNX

/// The DAG executor: finite-difference checks where the graph branches (a value read by two nodes, a residual
/// add, a concatenation), and the same bits on any thread count.
@Suite(.serialized) struct GraphExecutorTests {
    func graph(_ file: String) throws -> GraphLayer {
        try ONNXImport.layer(try ONNXDecoder.decode(try ONNXFixtures.bytes(file))).layer
    }

    func input(_ shape: [Int], seed: UInt64) -> Tensor {
        var generator = SeededGenerator(seed: seed)
        return Tensor.normal(shape: shape, using: &generator)
    }

    @Test func aValueReadByTwoNodesGetsTheSumOfTheirGradients() throws {
        // relu(x) + sigmoid(x) · 2: x feeds Relu and Sigmoid.
        let failures = GradientCheck.check(try graph("ops/two_consumers.onnx"), input: input([2, 3, 4], seed: 1))
        #expect(failures.isEmpty, "\(failures.prefix(3))")
    }

    @Test func concatenationSplitsTheGradientBackToItsBranches() throws {
        // cat([conv_a(x), x, conv_b(x)]): x feeds two convolutions and the concatenation itself.
        let failures = GradientCheck.check(try graph("ops/concat.onnx"), input: input([2, 2, 4, 4], seed: 2))
        #expect(failures.isEmpty, "\(failures.prefix(3))")
    }

    @Test func residualNetworkGradientsMatchFiniteDifferences() throws {
        // x + bn(conv(relu(bn(conv(x))))) and a depthwise branch concatenated back. In evaluation mode: float32
        // central differences through training-mode BatchNorm are too coarse for this depth (its training-mode
        // gradients are checked against PyTorch in ONNXOperatorParityTests and ONNXModelParityTests).
        let layer = try graph("residual-cnn.onnx")
        let failures = GradientCheck.check(layer, input: input([2, 1, 28, 28], seed: 3), mode: .eval)
        #expect(failures.isEmpty, "\(failures.prefix(3))")
    }

    /// Two SGD steps of the exported ResNet-18 hash to the same bits on one and three threads.
    @Test func trainingIsBitIdenticalOnOneAndThreeThreads() throws {
        let build = { try ONNXFixtures.model("resnet18.onnx") }
        #expect(
            try trainingBits(threads: 1, batch: 10, build: build) == trainingBits(threads: 3, batch: 10, build: build))
    }
}
