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
        singleThreaded()
        cblas_sgemm(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
            blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
    }

    /// OpenBLAS starts with one thread per core, and its threaded driver blocks products differently (other
    /// low bits). The engine threads GEMMs itself (`Parallel`), so OpenBLAS runs single-threaded from its first
    /// use on, whatever the process configured or not: results never depend on what ran before.
    private static let singleThreadedOnce: Void = openblas_set_num_threads(1)

    @usableFromInline static func singleThreaded() { _ = singleThreadedOnce }

    /// Threads OpenBLAS may use (1 unless a benchmark raises it on purpose).
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

    /// Identifies the arithmetic: two processes with the same identity produce bit-identical results (OpenBLAS's
    /// kernel set, libxsmm's target for `SmallGEMM`'s products, and the engine's own revision). Caches, workers
    /// and certificate replays compare it.
    public static var kernelIdentity: String {
        "openblas/\(coreName)+libxsmm/\(SmallGEMM.target)+engine/\(engineRevision)"
    }

    /// The revision of the engine's own arithmetic — how it splits and orders the sums around the libraries'
    /// products. Every change that changes the bits with the same libraries raises it (2: Winograd's 3×3
    /// convolutions, session 21; 3: 3×3 convolutions over few channels computed directly, session 24; 4: Winograd's
    /// F(4×4, 3×3) instead of F(2×2, 3×3), session 25; 5: inference's fully connected products in fixed blocks of
    /// rows, so that a sample's prediction does not depend on its batch, session 27), so that results computed
    /// before and after never mix.
    public static let engineRevision = 5
}
