import Checkpoint
import Foundation
import LetheTesting
import NN
import Testing

/// Training's bits with each OpenBLAS kernel set this CPU can run, pinned: an engine change that keeps the bits
/// with one kernel set can still change them with another (splitting a GEMM's columns moves some into the kernel's
/// edge code, which rounds differently on the Haswell kernels but not on the SkylakeX ones). These digests move only
/// when a change means to change the arithmetic; docs/PERFORMANCE.md then lists it with the kernel identity.
@Suite(.enabled(if: FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist")))
struct KernelSetBitsTests {
    let common = EndToEndTests()

    /// `lethe train --model fmnist-cnn` on a 600/300 subset, 2 epochs, seed 3: the sha256 of the trained tensors'
    /// bytes in state_dict order (not the file's: its metadata names the data directory) per kernel set, and the CPU
    /// flags that kernel set needs.
    static let pinned: [(kernels: String, flags: [String], sha256: String)] = [
        ("Sandybridge", ["avx"], "000a0d26157ed292038afd5b77250ef50a42294b973113356e347c20c32ce20b"),
        ("Haswell", ["avx2", "fma"], "2c6dc9feaa990d969421ffc1bb66f855ebf75b59ae3b6c1c27d91f908efd8644"),
        (
            "SkylakeX", ["avx512f", "avx512bw", "avx512dq", "avx512vl"],
            "d252f4d41547717ed5713f9ef2be960ad73a64b5ba0331d51e55e69936f31ed9"
        ),
    ]

    @Test func trainingGivesThePinnedBitsWithEveryKernelSetThisCPURuns() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let data = try common.makeSubset(in: directory, train: 600, test: 300)
        let flags = Set(
            (try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)).split(separator: "\n")
                .first { $0.hasPrefix("flags") }?.split(separator: " ").map(String.init) ?? [])
        let runnable = Self.pinned.filter { Set($0.flags).isSubset(of: flags) }
        try #require(!runnable.isEmpty, "this CPU runs none of the pinned kernel sets")
        for (kernels, _, expected) in runnable {
            let out = directory.path("\(kernels).safetensors")
            let train = try await LetheProcess.run(
                ["train", "--model", "fmnist-cnn", "--data", data, "--epochs", "2", "--seed", "3", "--out", out],
                environment: ["OPENBLAS_CORETYPE": kernels])
            try #require(train.status == 0, "\(train.standardError)")
            let trained = try SafetensorsFile(data: Data(contentsOf: URL(fileURLWithPath: out)))
            let bits = sha256Hex(trained.entries.flatMap { $0.tensor.scalars.flatMap(\.bitPattern.littleEndianBytes) })
            #expect(bits == expected, "\(kernels)")
        }
    }
}

extension UInt32 {
    fileprivate var littleEndianBytes: [UInt8] { withUnsafeBytes(of: littleEndian) { Array($0) } }
}
