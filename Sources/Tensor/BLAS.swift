import COpenBLAS

/// The one place that calls OpenBLAS. Matrices are row-major.
public enum BLAS {
    /// C = alpha · op(A) · op(B) + beta · C, with op(A) of shape [m, k] and op(B) of shape [k, n].
    @inlinable
    public static func sgemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        guard m > 0, n > 0 else { return }
        cblas_sgemm(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
            blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
    }

    /// Threads OpenBLAS may use. Its level-3 kernels split only the output (never the summed dimension), so
    /// this changes speed, not results.
    public static var threads: Int {
        get { Int(openblas_get_num_threads()) }
        set { openblas_set_num_threads(Int32(max(1, newValue))) }
    }

    /// The kernel set OpenBLAS picked for this CPU (for example "Haswell", "Zen", "SkylakeX").
    public static var coreName: String { String(cString: openblas_get_corename()) }

    /// OpenBLAS's build configuration string.
    public static var configuration: String {
        String(cString: openblas_get_config()).split(separator: " ").joined(separator: " ")
    }

    /// Identifies the arithmetic: two processes with the same identity produce bit-identical GEMM results.
    public static var kernelIdentity: String { "openblas/\(coreName)" }
}
