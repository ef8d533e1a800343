import Tensor
import Testing

/// libxsmm's products (`SmallGEMM`) against OpenBLAS's on the shapes Winograd's convolutions use.
struct SmallGEMMTests {
    @Test(arguments: [(m: 64, n: 784, k: 32), (m: 32, n: 784, k: 64), (m: 9, n: 5, k: 8), (m: 1, n: 1, k: 1)])
    func matchesOpenBLAS(m: Int, n: Int, k: Int) {
        var generator = SeededGenerator(seed: UInt64(m * n + k))
        let (lda, ldb, ldc) = (k + 3, n + 8, n + 8)
        let a = Tensor.uniform(shape: [m * lda], in: -1..<1, using: &generator).scalars
        let b = Tensor.uniform(shape: [k * ldb], in: -1..<1, using: &generator).scalars
        var small = [Float](repeating: .nan, count: m * ldc)
        var reference = [Float](repeating: .nan, count: m * ldc)
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                small.withUnsafeMutableBufferPointer { c in
                    SmallGEMM.multiply(
                        m: m, n: n, k: k, a: a.baseAddress!, lda: lda, b: b.baseAddress!, ldb: ldb, c: c.baseAddress!,
                        ldc: ldc)
                }
                reference.withUnsafeMutableBufferPointer { c in
                    BLAS.sgemm(
                        transposeA: false, transposeB: false, m: m, n: n, k: k, a: a.baseAddress!, lda: lda,
                        b: b.baseAddress!, ldb: ldb, c: c.baseAddress!, ldc: ldc)
                }
            }
        }
        var worst: Float = 0
        for row in 0..<m {
            for column in 0..<n { worst = max(worst, abs(small[row * ldc + column] - reference[row * ldc + column])) }
            // Past the n columns, C is left as it was.
            for column in n..<ldc { #expect(small[row * ldc + column].isNaN) }
        }
        #expect(worst <= 1e-5 * Float(k))
    }

    @Test func hasKernelsForWinogradShapes() {
        #expect(SmallGEMM.hasKernel(m: 64, n: 784, k: 32, lda: 32, ldb: 792, ldc: 792))
        #expect(["skx", "hsw", "snb", "wsm"].contains(SmallGEMM.target))
        #expect(BLAS.kernelIdentity.contains("+libxsmm/\(SmallGEMM.target)+engine/"))
    }
}
