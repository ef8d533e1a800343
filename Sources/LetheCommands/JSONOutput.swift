import Foundation
import Jobs
import NN
import Tensor
import ZeroMQ

/// One compact line of sorted-key JSON (benchmark figures, for machines that read line by line).
func printJSONLine(_ value: some Encodable) throws {
    let encoder = JSONEncoder.sorted
    encoder.outputFormatting = [.sortedKeys]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

func printJSON(_ value: some Encodable) throws {
    print(String(decoding: try JSONEncoder.sorted.encode(value), as: UTF8.self))
}

/// Which BLAS kernels computed a result (the kernel set changes the low bits of every GEMM), and which clone of
/// the engine's own C kernels ran (it changes their speed only).
struct BLASInfo: Encodable {
    let kernels: String
    let kernelIdentity: String
    let configuration: String
    let coretypeOverride: String?
    let cKernels: String

    static var current: BLASInfo {
        BLASInfo(
            kernels: BLAS.coreName, kernelIdentity: BLAS.kernelIdentity, configuration: BLAS.configuration,
            coretypeOverride: ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"], cKernels: KernelClone.current)
    }
}
