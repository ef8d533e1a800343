import Checkpoint
import Foundation
import LetheTesting
import Tensor
import Testing

/// Training's and inference's bits with each OpenBLAS kernel set this CPU can run (and libxsmm's matching target),
/// pinned, and inference's independent of the batch size: an engine
/// change that keeps the bits with one kernel set can still change them with another (splitting a GEMM's columns
/// moves some into the kernel's edge code, which rounds differently on the Haswell kernels but not on the SkylakeX
/// ones). These digests move only when a change means to change the arithmetic; docs/PERFORMANCE.md then lists it
/// with the kernel identity (session 21: Winograd's 3×3 convolutions; session 24: direct 3×3 convolutions over few
/// channels, `engine/3`; session 25: Winograd's F(4×4, 3×3), `engine/4`; session 27: inference's fully connected
/// products in fixed blocks of rows, `engine/5`, which moved the Haswell loss and kept the Sandybridge one).
@Suite(.enabled(if: FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist")))
struct KernelSetBitsTests {
    let common = EndToEndTests()

    /// `lethe train --model fmnist-cnn` on a 600/300 subset, 2 epochs, seed 3: the trained tensors' `BitHash` (not
    /// the file's sha256: its metadata names the data directory) per kernel set, the test loss `lethe eval` prints
    /// for them (every digit of the Double), and the CPU flags that kernel set needs. SkylakeX's `engine/5` loss is
    /// not pinned yet: it needs an AVX-512 host (session 27 had none; its `engine/4` loss was 2.1735234145323434);
    /// the test prints it there.
    static let pinned: [(kernels: String, flags: [String], bits: String, loss: String?)] = [
        ("Sandybridge", ["avx"], "df9758898a283917", "2.1735234185059866"),
        ("Haswell", ["avx2", "fma"], "2f1a6418663a7bad", "2.173523422082265"),
        ("SkylakeX", ["avx512f", "avx512bw", "avx512dq", "avx512vl"], "ebfd13be48750f56", nil),
    ]

    @Test func trainingGivesThePinnedBitsWithEveryKernelSetThisCPURuns() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let data = try common.makeSubset(in: directory, train: 600, test: 300)
        let flags = CPUFlags.current
        let runnable = Self.pinned.filter { Set($0.flags).isSubset(of: flags) }
        try #require(!runnable.isEmpty, "this CPU runs none of the pinned kernel sets")
        for (kernels, _, expected, loss) in runnable {
            let out = directory.path("\(kernels).safetensors")
            let train = try await LetheProcess.run(
                ["train", "--model", "fmnist-cnn", "--data", data, "--epochs", "2", "--seed", "3", "--out", out],
                environment: ["OPENBLAS_CORETYPE": kernels])
            try #require(train.status == 0, "\(train.standardError)")
            let trained = try SafetensorsFile(data: Data(contentsOf: URL(fileURLWithPath: out)))
            #expect(BitHash.of(trained.entries.map(\.tensor)) == expected, "\(kernels)")
            func evalLoss(batchSize: Int) async throws -> String? {
                let eval = try await LetheProcess.run(
                    [
                        "eval", "--model", "fmnist-cnn", "--weights", out, "--data", data, "--batch-size",
                        "\(batchSize)", "--format", "json",
                    ], environment: ["OPENBLAS_CORETYPE": kernels])
                try #require(eval.status == 0, "\(eval.standardError)")
                let figures = try JSONSerialization.jsonObject(with: Data(eval.standardOutput.utf8)) as? [String: Any]
                return (figures?["loss"] as? Double).map { "\($0)" }
            }
            let measured = try await evalLoss(batchSize: 250)
            // A sample's prediction does not depend on its batch (engine 5), with every kernel set.
            #expect(try await evalLoss(batchSize: 37) == measured, "\(kernels): the loss depends on the batch size")
            guard let loss else {
                print("\(kernels): eval loss \(measured ?? "missing") (not pinned)")
                continue
            }
            #expect(measured == loss, "\(kernels)")
        }
    }
}
