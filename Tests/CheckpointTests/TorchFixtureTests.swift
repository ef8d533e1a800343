import Checkpoint
import Foundation
import LetheTesting
import Tensor
import Testing

/// Files written by PyTorch's `safetensors.torch.save_file`.
@Suite struct TorchFixtureTests {
    func read(_ name: String) throws -> SafetensorsFile {
        try SafetensorsFile(contentsOf: torchParityFixtures.appendingPathComponent(name))
    }

    @Test func linearFixtureHasTheExpectedTensorsAndConsistentValues() throws {
        let file = try read("linear.safetensors")
        #expect(Set(file.names) == ["x", "weight", "bias", "y", "dy", "dx", "dweight", "dbias"])
        #expect(file.entries.allSatisfy { $0.dtype == .f32 })
        let x = try #require(file["x"]), weight = try #require(file["weight"]), bias = try #require(file["bias"])
        let y = try #require(file["y"])
        #expect(x.shape == [4, 5] && weight.shape == [3, 5] && bias.shape == [3] && y.shape == [4, 3])
        // y = x·weightᵀ + bias confirms that the bytes were decoded correctly, not just the header.
        var expected = Tensor(zeros: [4, 3])
        for row in 0..<4 {
            for column in 0..<3 {
                var sum = Double(bias.scalars[column])
                for k in 0..<5 { sum += Double(x.scalars[row * 5 + k]) * Double(weight.scalars[column * 5 + k]) }
                expected.scalars[row * 3 + column] = Float(sum)
            }
        }
        #expect(Tolerance.mismatch(y, expected) == nil)
    }

    @Test func fmnistMLPFixture() throws {
        let file = try read("fmnist_mlp.safetensors")
        #expect(file["init.fc1.weight"]?.shape == [256, 784])
        #expect(file["init.fc2.weight"]?.shape == [128, 256])
        #expect(file["init.fc3.bias"]?.shape == [10])
        #expect(file["input"]?.shape == [16, 1, 28, 28])
        #expect(file.names.count == 34)
        let weights = try #require(file["init.fc1.weight"]).scalars
        // PyTorch's default Linear init is uniform in ±1/√784.
        #expect(weights.allSatisfy { abs($0) <= 1 / 28 } && weights.contains { $0 != 0 })
    }

    @Test func everyFixtureReadsAndRewritesIdentically() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: torchParityFixtures.path)
            .filter { $0.hasSuffix(".safetensors") }.sorted()
        #expect(names.count >= 14)
        for name in names {
            let file = try read(name)
            #expect(!file.entries.isEmpty, "\(name)")
            #expect(try SafetensorsFile(data: file.serialized()) == file, "\(name)")
        }
        let batchNorm = try read("batchnorm2d.safetensors")
        #expect(batchNorm["x"]?.shape == [4, 3, 5, 5] && batchNorm["running_var_after"]?.shape == [3])
    }
}
