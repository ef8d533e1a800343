import Checkpoint
import LetheTesting
import NN
import Tensor
import Testing

@testable import ONNX

/// Each supported operator, exported alone from PyTorch (`scripts/onnx_fixture.py`, ops/*.onnx), against
/// PyTorch's training-mode output and the gradients of Σ output ⊙ probe with respect to the input and every
/// parameter (and BatchNorm's running statistics after the pass).
@Suite struct ONNXOperatorParityTests {
    static let operators = [
        "conv", "conv_nobias_k5", "conv_depthwise", "batchnorm", "batchnorm1d", "relu", "leakyrelu", "sigmoid",
        "maxpool", "avgpool", "globalavgpool", "gemm", "matmul_add", "mul_constant", "concat", "flatten", "reshape",
        "identity", "dropout", "two_consumers", "normalize", "constant_arithmetic",
    ]

    @Test(arguments: operators)
    func forwardAndBackwardMatchPyTorch(_ name: String) throws {
        let values = try ONNXFixtures.values("ops.safetensors")
        let onnx = try ONNXDecoder.decode(try ONNXFixtures.bytes("ops/\(name).onnx"))
        let graph = try ONNXImport.layer(onnx).layer
        let output = graph.forward(try values.required("\(name).input"), mode: .train(seed: 1))
        let expectedOutput = try values.required("\(name).output")
        #expect(Tolerance.mismatch(output, expectedOutput) == nil, "\(name) output")
        for (_, parameter) in graph.namedState { parameter.zeroGrad() }
        let inputGradient = graph.backward(try values.required("\(name).probe"))
        #expect(
            Tolerance.mismatch(inputGradient, try values.required("\(name).grad.input"), absolute: 1e-5) == nil,
            "\(name) ∂input")
        var worst = maxAbsoluteDifference(output, expectedOutput)
        for (parameterName, expected) in values.stripping(prefix: "\(name).grad.") where parameterName != "input" {
            let parameter = try #require(graph.namedState.first { $0.name == parameterName }?.parameter)
            #expect(Tolerance.mismatch(parameter.grad, expected) == nil, "\(name) ∂\(parameterName)")
            worst = max(worst, maxAbsoluteDifference(parameter.grad, expected))
        }
        for (bufferName, expected) in values.stripping(prefix: "\(name).after.") {
            let buffer = try #require(graph.namedState.first { $0.name == bufferName }?.parameter)
            #expect(Tolerance.mismatch(buffer.value, expected) == nil, "\(name) \(bufferName) after the pass")
        }
        print("onnx op parity \(name): max |Δ| output and parameter gradients \(worst)")
    }

    @Test func refusesAnUnsupportedOperatorNamingNodeTypeAndOpset() throws {
        let onnx = try ONNXDecoder.decode(try ONNXFixtures.bytes("refused/unsupported-op.onnx"))
        #expect {
            try ONNXImport.model(onnx, architecture: "unsupported-op.onnx")
        } throws: { error in
            guard case .unsupportedOperator(let node, let opType, let opset, _) = error as? ONNXError else {
                return false
            }
            return node.contains("Tanh") && opType == "Tanh" && opset == onnx.opsetVersion
        }
    }

    @Test func modelSpecNamesTheFileAndTheOperatorInItsRefusal() {
        #expect {
            try ModelSpec.build(ONNXFixtures.path("refused/unsupported-op.onnx"), seed: 0)
        } throws: { error in
            let message = "\(error)"
            return message.contains("unsupported-op.onnx") && message.contains("Tanh (opset")
        }
    }
}

func maxAbsoluteDifference(_ a: Tensor, _ b: Tensor) -> Float {
    zip(a.scalars, b.scalars).reduce(0) { max($0, abs($1.0 - $1.1)) }
}
