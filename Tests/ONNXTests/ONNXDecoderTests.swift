import Foundation
import NN
import Tensor
import Testing

@testable import ONNX

/// Decoding `.onnx` files: what PyTorch exports is read in full; hostile or unsupported files are refused with a
/// typed error, never a crash.
@Suite struct ONNXDecoderTests {
    @Test func readsThePyTorchExportOfTheResidualCNN() throws {
        let model = try ONNXDecoder.decode(try ONNXFixtures.bytes("residual-cnn.onnx"))
        #expect(model.opsetVersion >= 9)
        #expect(model.producer == "pytorch")
        #expect(model.graph.input.sampleShape == [1, 28, 28])
        #expect(model.graph.outputs == ["output"])
        #expect(model.graph.initializers.map(\.name).prefix(3) == ["conv1.weight", "bn1.weight", "bn1.bias"])
        let conv = try #require(model.graph.initializers.first)
        #expect(conv.shape == [4, 1, 3, 3])
        #expect(model.graph.nodes.contains { $0.opType == "Concat" && $0.attributes["axis"] == .int(1) })
    }

    @Test func nodesComeInTopologicalOrder() throws {
        let graph = try ONNXDecoder.decode(try ONNXFixtures.bytes("resnet18.onnx")).graph
        var defined = Set([graph.input.name] + graph.initializers.map(\.name))
        for node in graph.nodes {
            #expect(node.inputs.allSatisfy { $0.isEmpty || defined.contains($0) }, "\(node.name) reads too early")
            defined.formUnion(node.outputs)
        }
    }

    @Test func refusesWeightsKeptInAnExternalFile() throws {
        #expect(throws: ONNXError.externalData(tensor: "fc.weight")) {
            try ONNXDecoder.decode(try ONNXFixtures.bytes("refused/external-data.onnx"))
        }
    }

    @Test func refusesANodeReadingAnUndefinedInitializer() throws {
        #expect(throws: ONNXError.missingValue(node: "fc", value: "fc.weight")) {
            try ONNXDecoder.decode(try ONNXFixtures.bytes("refused/missing-initializer.onnx"))
        }
    }

    @Test func refusesAnAbsurdlyLargeTensorBeforeAllocatingIt() throws {
        #expect {
            try ONNXDecoder.decode(try ONNXFixtures.bytes("refused/huge-tensor.onnx"))
        } throws: { error in
            guard case .tooLarge(let reason) = error as? ONNXError else { return false }
            return reason.contains("fc.weight")
        }
    }

    /// Each size is in range but their product overflows: refused, not wrapped around to a small number.
    @Test func refusesAnInputTooLargeForOneSample() throws {
        #expect {
            try ONNXDecoder.decode(try ONNXFixtures.bytes("refused/huge-input.onnx"))
        } throws: { error in
            guard case .tooLarge(let reason) = error as? ONNXError else { return false }
            return reason.contains("input 'x'") && reason.contains("per sample")
        }
    }

    @Test func refusesACycle() throws {
        #expect {
            try ONNXDecoder.decode(try ONNXFixtures.bytes("refused/cycle.onnx"))
        } throws: { error in
            guard case .invalidGraph(let reason) = error as? ONNXError else { return false }
            return reason.contains("cycle")
        }
    }

    @Test func refusesEmptyAndNonProtobufBytes() {
        #expect(throws: ONNXError.malformed("the file is empty")) { try ONNXDecoder.decode([]) }
        #expect(throws: ONNXError.self) { try ONNXDecoder.decode(Array("not an onnx file".utf8)) }
    }

    @Test func refusesEveryTruncationOfAModel() throws {
        let bytes = try ONNXFixtures.bytes("ops/concat.onnx")
        for length in 0..<bytes.count {
            #expect(throws: ONNXError.self, "a prefix of \(length) bytes") {
                try ONNXDecoder.decode(Array(bytes.prefix(length)))
            }
        }
    }

    /// Flipped bytes, truncations and random bytes: each decodes or throws `ONNXError`, never crashes; what decodes
    /// is imported or refused, and what imports runs.
    @Test func fuzzedFilesNeverCrashTheDecoder() throws {
        let seeds = try ["ops/gemm.onnx", "residual-cnn.onnx", "mlp.onnx"].map(ONNXFixtures.bytes)
        var random = SeededGenerator(seed: 11)
        var (accepted, refused) = (0, 0)
        for iteration in 0..<3_000 {
            var bytes = seeds[Int.random(in: 0..<seeds.count, using: &random)]
            switch iteration % 3 {
            case 0:
                for _ in 0..<Int.random(in: 1...4, using: &random) {
                    bytes[Int.random(in: 0..<bytes.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
                }
            case 1:
                bytes = Array(bytes.prefix(Int.random(in: 0..<bytes.count, using: &random)))
            default:
                bytes = (0..<Int.random(in: 0..<256, using: &random)).map { _ in
                    UInt8.random(in: 0...255, using: &random)
                }
            }
            do {
                let model = try ONNXImport.model(try ONNXDecoder.decode(bytes), architecture: "fuzzed")
                _ = model.forward(Tensor(zeros: [2] + model.inputShape), mode: .eval)
                accepted += 1
            } catch {
                refused += 1
            }
        }
        print("onnx fuzz: \(accepted) imported and ran, \(refused) refused")
        #expect(refused > 1000)
        #expect(accepted > 100, "flipped weight bytes leave a valid graph")
        #expect(accepted + refused == 3_000)
    }
}
