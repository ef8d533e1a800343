import Foundation
import LetheTesting
import NN
import Tensor
import Testing

struct ModelSpecTests {
    func writeSpec(_ json: String) throws -> (TemporaryDirectory, String) {
        let directory = try TemporaryDirectory()
        let path = directory.path("model.json")
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        return (directory, path)
    }

    @Test func builtInModelsHavePyTorchNamesAndSizes() throws {
        let cnn = try ModelSpec.build("fmnist-cnn", seed: 1)
        #expect(cnn.parameterCount == 421_642)
        #expect(
            cnn.stateDict().map(\.name) == [
                "conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "fc1.weight", "fc1.bias", "fc2.weight",
                "fc2.bias",
            ])
        #expect(try ModelSpec.build("fmnist-mlp", seed: 1).stateDict().map(\.name).last == "fc3.bias")
        let resnet = try ModelSpec.build("resnet18:width=8,classes=100", seed: 1)
        #expect(resnet.classCount == 100 && resnet.inputShape == [3, 32, 32])
        #expect(resnet.stateDict().contains { $0.name == "layer4.0.downsample.1.num_batches_tracked" })
        #expect(resnet.forward(Tensor(zeros: [2, 3, 32, 32]), mode: .eval).shape == [2, 100])
    }

    @Test func defaultInitialisationFollowsPyTorchBounds() throws {
        let model = try ModelSpec.build("fmnist-cnn", seed: 5)
        let state = Dictionary(uniqueKeysWithValues: model.stateDict().map { ($0.name, $0.tensor) })
        // Kaiming-uniform with a = √5 is uniform(±1/√fan_in) for weights and biases alike.
        for (name, fanIn) in [("conv1", 9), ("conv2", 288), ("fc1", 3136), ("fc2", 128)] {
            let bound = 1 / Float(fanIn).squareRoot()
            for suffix in ["weight", "bias"] {
                let values = try #require(state["\(name).\(suffix)"]).scalars
                #expect(values.allSatisfy { abs($0) <= bound })
                #expect(values.map(abs).max()! > 0.8 * bound)
            }
        }
    }

    @Test func jsonArchitectureBuildsAndTrains() throws {
        let (directory, path) = try writeSpec(
            """
            {"name": "tiny", "input": [1, 8, 8], "layers": [
              {"type": "conv2d", "name": "conv1", "in": 1, "out": 4, "kernel": 3, "padding": 1},
              {"type": "batchnorm2d", "name": "bn1", "channels": 4}, {"type": "relu"},
              {"type": "maxpool2d", "kernel": 2}, {"type": "dropout", "p": 0.25}, {"type": "flatten"},
              {"type": "linear", "name": "fc", "in": 64, "out": 3}]}
            """)
        defer { directory.remove() }
        let model = try ModelSpec.build(path, seed: 1)
        #expect(model.architecture == "tiny" && model.classCount == 3)
        #expect(
            model.stateDict().map(\.name) == [
                "conv1.weight", "conv1.bias", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var",
                "bn1.num_batches_tracked", "fc.weight", "fc.bias",
            ])
        let logits = model.forward(Tensor(repeating: 0.5, shape: [4, 1, 8, 8]), mode: .train(seed: 1))
        #expect(logits.shape == [4, 3])
        #expect(model.head == .classification)
    }

    /// A JSON file read from disk resolves by content afterwards (`json:<sha256>`, the name jobs give it), to a
    /// model with the same name and initialisation; an unknown hash is refused naming the upload to do.
    @Test func aJSONArchitectureReadFromDiskResolvesByContent() throws {
        let text = """
            {"name": "by-content", "input": [4], "layers": [{"type": "linear", "name": "fc", "in": 4, "out": 2}]}
            """
        let (directory, path) = try writeSpec(text)
        defer { directory.remove() }
        let fromFile = try ModelSpec.build(path, seed: 3)
        let sha256 = sha256Hex(Data(text.utf8))
        let byContent = try ModelSpec.build(ModelFiles.architecture(.json, sha256: sha256), seed: 3)
        #expect(byContent.architecture == "by-content")
        #expect(
            byContent.stateDict().map { $0.tensor.scalars } == fromFile.stateDict().map { $0.tensor.scalars })
        #expect {
            try ModelSpec.build("json:" + String(repeating: "0", count: 64), seed: 0)
        } throws: { error in
            "\(error)".contains("upload it with lethe submit --model FILE.json")
        }
    }

    /// `"head": "regression"` makes the outputs values (a table of 4 features → 2 targets).
    @Test func jsonArchitectureWithARegressionHead() throws {
        let (directory, path) = try writeSpec(
            """
            {"name": "table-mlp", "input": [1, 1, 4], "head": "regression", "layers": [{"type": "flatten"},
              {"type": "linear", "name": "fc1", "in": 4, "out": 8}, {"type": "relu"},
              {"type": "linear", "name": "fc2", "in": 8, "out": 2}]}
            """)
        defer { directory.remove() }
        let model = try ModelSpec.build(path, seed: 1)
        #expect(model.head == .regression(outputs: 2) && model.inputShape == [1, 1, 4])
    }

    @Test(arguments: [
        (
            "{\"input\": [1, 8, 8], \"layers\": [{\"type\": \"linear\", \"name\": \"fc\", \"in\": 64, \"out\": 3}]}",
            "expects 64 features"
        ),
        (
            "{\"input\": [1, 8, 8], \"layers\": [{\"type\": \"conv2d\", \"in\": 1, \"out\": 2, \"kernel\": 3}]}",
            "needs a \"name\""
        ),
        (
            "{\"input\": [1, 8, 8], \"layers\": [{\"type\": \"conv2d\", \"name\": \"c\", \"in\": 3, \"out\": 2, \"kernel\": 3}]}",
            "expects 3 input channels"
        ),
        ("{\"input\": [1, 8, 8], \"layers\": [{\"type\": \"softmax\"}]}", "unknown layer type"),
        ("{\"input\": [1, 8, 8], \"layers\": [{\"type\": \"relu\"}]}", "must output class scores"),
        (
            "{\"input\": [1, 8, 8], \"layers\": [{\"type\": \"maxpool2d\", \"kernel\": 9}, {\"type\": \"flatten\"}]}",
            "does not fit"
        ),
        ("not json", "not a valid architecture file"),
        (
            "{\"input\": [1, 8, 8], \"layers\": [{\"type\": \"conv2d\", \"name\": \"c\", \"in\": 1, \"out\": 2, \"kernel\": 3, \"groups\": 1}, {\"type\": \"flatten\"}]}",
            "layer 0 (conv2d 'c'): unknown key \"groups\" (it takes type, name, in, out, kernel, stride, padding, bias)"
        ),
        (
            "{\"input\": [1, 8, 8], \"layers\": [{\"type\": \"relu\", \"inplace\": true, \"kernel\": 2}]}",
            "layer 0 (relu): unknown keys \"inplace\", \"kernel\" (it takes type, name)"
        ),
        (
            "{\"input\": [64], \"layers\": [{\"type\": \"linear\", \"name\": \"fc\", \"in\": 64, \"out\": 3}], \"classes\": 3}",
            "unknown key \"classes\" (it takes head, input, layers, name)"
        ),
        (
            "{\"input\": [4], \"layers\": [{\"type\": \"linear\", \"name\": \"fc\", \"in\": 4, \"out\": 1}], \"head\": \"values\"}",
            "\"head\" is \"classification\" or \"regression\", not \"values\""
        ),
    ])
    func invalidArchitecturesAreRefusedWithTheReason(json: String, reason: String) throws {
        let (directory, path) = try writeSpec(json)
        defer { directory.remove() }
        #expect {
            try ModelSpec.build(path, seed: 1)
        } throws: { error in
            "\(error)".contains(reason)
        }
    }

    @Test func copiesAreIndependentWithTheSameState() {
        let model = ModelZoo.resnet18(seed: 3, width: 2, inputShape: [3, 8, 8])
        _ = model.forward(Tensor(repeating: 0.3, shape: [2, 3, 8, 8]), mode: .train())  // moves running statistics
        let copy = model.copy()
        let state = { (m: Model) in BitHash.of(m.stateDict().map(\.tensor)) }
        #expect(state(copy) == state(model))
        #expect(copy.stateDict().map(\.name) == model.stateDict().map(\.name))
        model.namedParameters[0].parameter.value.scalars[0] += 1
        _ = model.forward(Tensor(repeating: 0.7, shape: [2, 3, 8, 8]), mode: .train())
        #expect(state(copy) != state(model))
        let input = Tensor(repeating: 0.1, shape: [1, 3, 8, 8])
        #expect(BitHash.of([copy.forward(input, mode: .eval)]) == BitHash.of([copy.copy().forward(input, mode: .eval)]))
    }

    /// A misspelt option is refused by name, never ignored: `channel=1` would otherwise build a 3-channel model.
    @Test func unknownModelOptionsAreRefusedByName() {
        let cases = [
            (
                "resnet18:width=8,channel=1",
                "unknown model option channel for resnet18 (resnet18 takes width, classes, channels, size)"
            ),
            ("resnet18:depth=1,widht=8", "unknown model options depth, widht for resnet18"),
            ("fmnist-cnn:width=8", "unknown model option width for fmnist-cnn (fmnist-cnn takes regression)"),
        ]
        for (spec, message) in cases {
            #expect {
                try ModelSpec.build(spec, seed: 1)
            } throws: { error in
                "\(error)".contains(message)
            }
        }
        #expect(throws: Never.self) { try ModelSpec.build("resnet18:width=2,channels=1,size=8,classes=3", seed: 1) }
        #expect(
            throws: ModelSpecError.unknown(
                "unknown model 'vgg16:x=1': use one of fmnist-mlp, fmnist-cnn, resnet18, a .json architecture file or a .onnx graph"
            )
        ) {
            try ModelSpec.build("vgg16:x=1", seed: 1)
        }
    }

    @Test func unknownNamesAndBadOptions() {
        #expect(throws: ModelSpecError.self) { try ModelSpec.build("vgg16", seed: 1) }
        #expect(throws: ModelSpecError.self) { try ModelSpec.build("resnet18:width=zero", seed: 1) }
        #expect(throws: ModelSpecError.self) { try ModelSpec.build("/nonexistent/model.json", seed: 1) }
    }
}
