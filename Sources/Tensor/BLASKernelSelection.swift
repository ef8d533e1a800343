import Foundation

/// Chooses OpenBLAS's kernel set before the library is first used.
///
/// Debian's OpenBLAS picks its AVX2 (Haswell/Zen) kernels even on CPUs with AVX-512, where its SkylakeX
/// kernels run sgemm about 1.9× faster with correct results. OpenBLAS reads `OPENBLAS_CORETYPE` only when it
/// loads, so the process re-executes itself once with the variable set. A value the user already set wins.
public enum BLASKernelSelection {
    /// The CPU features the SkylakeX kernels need.
    static let skylakeXFlags: Set<String> = ["avx512f", "avx512dq", "avx512cd", "avx512bw", "avx512vl"]

    /// Re-executes the current process with the fastest correct kernels if that changes anything; returns
    /// normally otherwise (or if re-executing fails, which only costs speed).
    public static func reexecWithFastestKernels() {
        let environment = ProcessInfo.processInfo.environment
        guard environment["OPENBLAS_CORETYPE"] == nil, let core = fastestCoreType() else { return }
        setenv("OPENBLAS_CORETYPE", core, 1)
        let arguments = CommandLine.arguments
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        execv("/proc/self/exe", &argv)
        // Only reached if exec failed: carry on with the default kernels.
        unsetenv("OPENBLAS_CORETYPE")
        for pointer in argv { free(pointer) }
    }

    /// "SkylakeX" when this CPU supports it, nil when OpenBLAS's own choice is already the best.
    public static func fastestCoreType(cpuinfo: String? = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))
        -> String?
    {
        guard let cpuinfo else { return nil }
        return skylakeXFlags.isSubset(of: CPUFlags.of(cpuinfo: cpuinfo)) ? "SkylakeX" : nil
    }
}
