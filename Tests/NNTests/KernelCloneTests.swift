import Foundation
import NN
import Tensor
import Testing

/// The loader picks the C kernels' clone by the CPU's features: AVX-512 where there is AVX-512, AVX2 with FMA
/// (x86-64-v3) where there is that, the baseline otherwise — whatever the CPU's model (an `arch=haswell` clone was
/// picked only on CPUs that identify as Haswell, so AMD's ran the baseline, 4–8× slower).
@Suite(.enabled(if: FileManager.default.fileExists(atPath: "/proc/cpuinfo")))
struct KernelCloneTests {
    @Test func theClonePickedMatchesTheCPUsFeatures() {
        let flags = CPUFlags.current
        #if arch(x86_64)
            // x86-64-v3 as the resolver checks it: x86-64-v2 (CMPXCHG16B, LAHF, POPCNT, SSE3, SSSE3, SSE4.1, SSE4.2)
            // with AVX, AVX2, BMI1, BMI2, F16C, FMA, LZCNT (cpuinfo's "abm") and MOVBE.
            let v3: Set = [
                "cx16", "lahf_lm", "popcnt", "pni", "ssse3", "sse4_1", "sse4_2",
                "avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "abm", "movbe",
            ]
            let expected = flags.contains("avx512f") ? "avx512f" : v3.isSubset(of: flags) ? "x86-64-v3" : "x86-64"
            #expect(KernelClone.current == expected, "CPU flags: \(flags.sorted().joined(separator: " "))")
        #else
            #expect(KernelClone.current == "generic")
        #endif
    }
}
