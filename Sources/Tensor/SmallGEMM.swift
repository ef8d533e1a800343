import CXSMM

/// Products with a short inner dimension (Winograd's [out, in]·[in, tiles] with in = 32: OpenBLAS packs both
/// operands and runs at ~60% of its large-matrix rate there) through libxsmm's generated kernels, which keep
/// each block of the result in registers over the whole inner dimension. libxsmm generates code for the same
/// instruction set as OpenBLAS's kernels (`target`), so one kernel identity names both.
public enum SmallGEMM {
    /// libxsmm's code generation target for OpenBLAS's kernel set: AVX-512 ("skx") for SkylakeX and newer,
    /// AVX2 with FMA ("hsw") for Haswell and Zen, AVX ("snb") for Sandybridge, SSE ("wsm") otherwise.
    public static var target: String {
        switch BLAS.coreName {
        case "SkylakeX", "Cooperlake", "SapphireRapids": "skx"
        case "Haswell", "Zen": "hsw"
        case "Sandybridge": "snb"
        default: "wsm"
        }
    }

    private static let initialized: Void = {
        libxsmm_init()
        libxsmm_set_target_arch(target)
    }()

    /// C = A · B for row-major A [m, k], B [k, n], C [m, n] (leading dimensions lda, ldb, ldc), C overwritten.
    /// Falls back to OpenBLAS where libxsmm has no kernel for the shape; which one computes depends only on the
    /// shape and the target, so the bits do too.
    public static func multiply(
        m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        guard m > 0, n > 0 else { return }
        guard let kernel = kernel(m: m, n: n, k: k, lda: lda, ldb: ldb, ldc: ldc) else {
            return BLAS.sgemm(
                transposeA: false, transposeB: false, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc)
        }
        // libxsmm is column-major: Cᵀ [n, m] = Bᵀ [n, k] · Aᵀ [k, m].
        lethe_xsmm_call(kernel, b, a, c)
    }

    /// B = Aᵀ for row-major A [rows, columns] (leading dimension lda) into B [columns, rows] (leading dimension
    /// ldb): libxsmm's transposition (a copy, so no arithmetic).
    public static func transpose(
        rows: Int, columns: Int, _ a: UnsafePointer<Float>, lda: Int, into b: UnsafeMutablePointer<Float>, ldb: Int
    ) {
        guard rows > 0, columns > 0 else { return }
        _ = initialized
        // Column-major, A is [columns, rows] and B [rows, columns].
        libxsmm_otrans(
            b, a, UInt32(MemoryLayout<Float>.size), libxsmm_blasint(columns), libxsmm_blasint(rows),
            libxsmm_blasint(lda), libxsmm_blasint(ldb))
    }

    /// Whether libxsmm computes this shape (or `multiply` falls back to OpenBLAS).
    public static func hasKernel(m: Int, n: Int, k: Int, lda: Int, ldb: Int, ldc: Int) -> Bool {
        kernel(m: m, n: n, k: k, lda: lda, ldb: ldb, ldc: ldc) != nil
    }

    private static func kernel(m: Int, n: Int, k: Int, lda: Int, ldb: Int, ldc: Int) -> libxsmm_smmfunction? {
        _ = initialized
        var (alpha, beta, flags): (Float, Float, Int32) = (1, 0, 0)
        var (ldA, ldB, ldC) = (libxsmm_blasint(ldb), libxsmm_blasint(lda), libxsmm_blasint(ldc))
        return libxsmm_smmdispatch(
            libxsmm_blasint(n), libxsmm_blasint(m), libxsmm_blasint(k), &ldA, &ldB, &ldC, &alpha, &beta, &flags, nil)
    }
}
