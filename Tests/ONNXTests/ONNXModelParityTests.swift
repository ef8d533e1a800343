import Checkpoint
import Foundation
import LetheTesting
import NN
import Tensor
import Testing

/// The three exported models (`scripts/onnx_fixture.py`): a residual CNN, a torchvision-style ResNet-18 at width 2
/// and an MLP, against PyTorch's eval-mode logits and one training-mode SGD step (lr 0.1, cross-entropy).
@Suite struct ONNXModelParityTests {
    static let models = ["residual-cnn", "resnet18", "mlp"]

    @Test(arguments: models)
    func evalLogitsMatchPyTorch(_ name: String) throws {
        let model = try ONNXFixtures.model("\(name).onnx")
        let values = try ONNXFixtures.values("\(name).safetensors")
        let logits = model.forward(try values.required("input"), mode: .eval)
        let expected = try values.required("logits.eval")
        #expect(Tolerance.mismatch(logits, expected, relative: 1e-4, absolute: 1e-5) == nil)
        print("onnx model parity \(name): eval logits max |Δ| \(maxAbsoluteDifference(logits, expected))")
    }

    @Test(arguments: models)
    func oneTrainingStepMatchesPyTorch(_ name: String) throws {
        let model = try ONNXFixtures.model("\(name).onnx")
        let values = try ONNXFixtures.values("\(name).safetensors")
        let labels = try values.required("labels").scalars.map { Int($0) }
        model.zeroGradients()
        let logits = model.forward(try values.required("input"), mode: .train(seed: 3))
        #expect(Tolerance.mismatch(logits, try values.required("logits.train")) == nil, "training-mode logits")
        let loss = crossEntropy(logits: logits, labels: labels)
        #expect(Tolerance.isClose(loss.value, try values.required("loss").scalars[0]), "loss")
        model.backward(loss.gradient)
        SGD(learningRate: 0.1).update(model: model)
        let state = Dictionary(uniqueKeysWithValues: model.stateDict().map { ($0.name, $0.tensor) })
        var worst: Float = 0
        for (entry, expected) in values.stripping(prefix: "after.") {
            let tensor = try #require(state[entry], "\(entry) is not in Lethe's state dict")
            #expect(
                Tolerance.mismatch(tensor, expected, relative: 1e-4, absolute: 1e-5) == nil, "\(entry) after the step")
            worst = max(worst, maxAbsoluteDifference(tensor, expected))
        }
        print("onnx model parity \(name): state after one SGD step max |Δ| \(worst)")
    }

    /// Lethe's state dict is PyTorch's: the same names (initializer names, plus BatchNorm's num_batches_tracked).
    @Test(arguments: ["residual-cnn", "mlp"])
    func stateDictNamesArePyTorchs(_ name: String) throws {
        let model = try ONNXFixtures.model("\(name).onnx")
        let recorded = Set(try ONNXFixtures.values("\(name).safetensors").stripping(prefix: "after.").map(\.name))
        let names = model.stateDict().map(\.name)
        #expect(Set(names.filter { !$0.hasSuffix(".num_batches_tracked") }) == recorded)
        #expect(names.count == Set(names).count)
    }

    /// `--weights model.onnx`: a checkpoint read from an ONNX file is the file's initializers (BatchNorm counters
    /// from 0, with a note), wherever a safetensors file is read: by path or as a blob's bytes.
    @Test func weightsLoadFromTheONNXFileItself() throws {
        let model = try ONNXFixtures.model("residual-cnn.onnx")
        let exported = model.stateDict()
        for (_, parameter) in model.namedParameters { parameter.value = parameter.value.map { $0 + 1 } }
        let url = ONNXFixtures.directory.appendingPathComponent("residual-cnn.onnx")
        let loaded = try ModelCheckpoint.read(url, into: model)
        #expect(loaded.metadata.isEmpty)
        #expect(loaded.notes.count == 1 && loaded.notes[0].contains("bn1.num_batches_tracked"))
        for (a, b) in zip(model.stateDict(), exported) { #expect(a.name == b.name && a.tensor == b.tensor) }
        for (_, parameter) in model.namedParameters { parameter.value = parameter.value.map { $0 + 1 } }
        _ = try ModelCheckpoint.read(try Data(contentsOf: url), source: "blob", into: model)
        for (a, b) in zip(model.stateDict(), exported) { #expect(a.tensor == b.tensor) }
        // Another graph's file does not fit, and says which tensors are missing.
        #expect(throws: ModelCheckpoint.LoadError.self) {
            try ModelCheckpoint.read(ONNXFixtures.directory.appendingPathComponent("mlp.onnx"), into: model)
        }
    }

    @Test func weightsRoundTripThroughSafetensorsUnderTheirGraphNames() throws {
        let trained = try ONNXFixtures.model("residual-cnn.onnx")
        for (_, parameter) in trained.namedParameters { parameter.value = parameter.value.map { $0 * 0.5 + 0.01 } }
        let file = SafetensorsFile(tensors: trained.stateDict())
        let fresh = try ONNXFixtures.model("residual-cnn.onnx")
        let read = try SafetensorsFile(data: try file.serialized())
        try fresh.load(stateDict: read.entries.map { (name: $0.name, tensor: $0.tensor) })
        for (a, b) in zip(trained.stateDict(), fresh.stateDict()) {
            #expect(a.name == b.name && a.tensor == b.tensor)
        }
    }
}
