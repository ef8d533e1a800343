import Checkpoint
import Foundation
import LetheTesting
import NN
import Tensor
import Testing

/// State dicts as PyTorch users bring them (`Tests/Fixtures/bring-your-model`, from `scripts/byom_fixture.py`):
/// forgiving where PyTorch is, strict where it matters.
struct PyTorchStateDictTests {
    let spec = Fixtures.bringYourModel("small-bn-cnn.json")
    let weights = URL(fileURLWithPath: Fixtures.bringYourModel("small-bn-cnn.safetensors"))

    /// The JSON spec with PyTorch's weights computes PyTorch's eval-mode logits.
    @Test func theExportedModelGivesPyTorchsLogits() throws {
        let model = try ModelSpec.build(spec, seed: 0)
        let loaded = try ModelCheckpoint.read(weights, into: model)
        #expect(loaded.notes.isEmpty)
        let parity = try SafetensorsFile(
            contentsOf: URL(fileURLWithPath: Fixtures.bringYourModel("parity.safetensors")))
        let logits = model.forward(try parity.required("input"), mode: .eval)
        #expect(Tolerance.mismatch(logits, try parity.required("logits"), relative: 1e-4, absolute: 1e-4) == nil)
    }

    /// PyTorch loads a state dict without BatchNorm's counter; so does Lethe, counting from 0 and saying so.
    @Test func aMissingBatchCounterLoadsAsZeroWithANote() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var file = try SafetensorsFile(contentsOf: weights)
        let counter = try #require(file["bn1.num_batches_tracked"])
        #expect(counter.scalars[0] > 0)
        file.entries.removeAll { $0.name == "bn1.num_batches_tracked" }
        let stripped = directory.url.appendingPathComponent("stripped.safetensors")
        try file.write(to: stripped)

        let model = try ModelSpec.build(spec, seed: 0)
        let loaded = try ModelCheckpoint.read(stripped, into: model)
        #expect(loaded.notes.count == 1)
        #expect(
            loaded.notes[0].contains("has no bn1.num_batches_tracked") && loaded.notes[0].contains("counted from 0"))
        let state = Dictionary(uniqueKeysWithValues: model.stateDict().map { ($0.name, $0.tensor) })
        #expect(state["bn1.num_batches_tracked"]?.scalars == [0])
        #expect(state["bn1.running_mean"]?.scalars == file["bn1.running_mean"]?.scalars)
        // Only the counter is forgiven: a missing running statistic is still refused by name.
        file.entries.removeAll { $0.name == "bn1.running_var" }
        try file.write(to: stripped)
        #expect {
            try ModelCheckpoint.read(stripped, into: ModelSpec.build(spec, seed: 0))
        } throws: { error in
            "\(error)".contains("missing: bn1.running_var") && !"\(error)".contains("num_batches_tracked")
        }
    }

    /// A real `torch.save` file, a pre-1.6 pickle and a `.pth` of other bytes: each is named with the export to use.
    @Test func torchSaveFilesAreNamedWithTheExport() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let pickle = directory.url.appendingPathComponent("legacy.bin")
        try Data([0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8]).write(to: pickle)
        let pth = directory.url.appendingPathComponent("model.pth")
        try Data("not a safetensors file at all".utf8).write(to: pth)
        let cases = [
            (URL(fileURLWithPath: Fixtures.bringYourModel("torch-save.pt")), "zip archive"), (pickle, "pickle"),
            (pth, ".pth file"),
        ]
        for (url, format) in cases {
            #expect {
                try ModelCheckpoint.read(url, into: ModelSpec.build(spec, seed: 0))
            } throws: { error in
                "\(error)".contains(
                    "this is a torch.save file (\(format)), not safetensors: export with "
                        + "safetensors.torch.save_file(model.state_dict(), path)")
            }
        }
    }
}
