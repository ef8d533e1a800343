import LetheTesting
import Tensor
import Testing

struct TensorTests {
    @Test func matmulMatchesNaiveProductInEveryTransposition() {
        var generator = SeededGenerator(seed: 1)
        let a = Tensor.uniform(shape: [5, 7], in: -1..<1, using: &generator)
        let b = Tensor.uniform(shape: [7, 3], in: -1..<1, using: &generator)
        var expected = Tensor(zeros: [5, 3])
        for i in 0..<5 {
            for j in 0..<3 {
                var total: Double = 0
                for k in 0..<7 { total += Double(a.scalars[i * 7 + k]) * Double(b.scalars[k * 3 + j]) }
                expected.scalars[i * 3 + j] = Float(total)
            }
        }
        func transposed(_ t: Tensor) -> Tensor {
            let (rows, columns) = (t.shape[0], t.shape[1])
            return Tensor(shape: [columns, rows]) { out in
                for i in 0..<rows { for j in 0..<columns { out[j * rows + i] = t.scalars[i * columns + j] } }
            }
        }
        #expect(Tolerance.mismatch(a.matmul(b), expected) == nil)
        #expect(Tolerance.mismatch(transposed(a).matmul(b, transposeSelf: true), expected) == nil)
        #expect(Tolerance.mismatch(a.matmul(transposed(b), transposeOther: true), expected) == nil)
    }

    @Test func slicingGatheringAndConcatenating() {
        let t = Tensor(shape: [4, 2], scalars: [0, 1, 2, 3, 4, 5, 6, 7])
        #expect(t.slice(rows: 1..<3) == Tensor(shape: [2, 2], scalars: [2, 3, 4, 5]))
        #expect(t.gather(rows: [3, 0]) == Tensor(shape: [2, 2], scalars: [6, 7, 0, 1]))
        #expect(Tensor.concatenate([t.slice(rows: 0..<1), t.slice(rows: 1..<4)]) == t)
        #expect(t.argmaxRows() == [1, 1, 1, 1])
        #expect(Tensor(shape: [2, 3], scalars: [0, 5, 5, 9, 1, 2]).argmaxRows() == [1, 0])
        #expect(t.reshaped([2, 4]).shape == [2, 4])
    }

    @Test func arithmeticAndReductions() {
        let a = Tensor(shape: [3], scalars: [1, -2, 3])
        let b = Tensor(shape: [3], scalars: [0.5, 0.5, 0.5])
        #expect(Tolerance.mismatch(a + b, Tensor(shape: [3], scalars: [1.5, -1.5, 3.5])) == nil)
        #expect(Tolerance.mismatch(a - b, Tensor(shape: [3], scalars: [0.5, -2.5, 2.5])) == nil)
        #expect(Tolerance.mismatch(2 * a, Tensor(shape: [3], scalars: [2, -4, 6])) == nil)
        #expect(abs(a.sum() - 2) < 1e-12)
        #expect(abs(a.squaredNorm() - 14) < 1e-12)
        #expect(a.isFinite && !Tensor(shape: [1], scalars: [.nan]).isFinite)
    }

    @Test func vectorizedKernelsMatchScalarLoops() {
        var generator = SeededGenerator(seed: 2)
        let count = 37  // not a multiple of the vector width
        let x = Tensor.uniform(shape: [count], in: -1..<1, using: &generator).scalars
        let dy = Tensor.uniform(shape: [count], in: -1..<1, using: &generator).scalars
        var relu = [Float](repeating: 9, count: count)
        var gradient = [Float](repeating: 9, count: count)
        var sum = dy
        var sumOfValue = dy
        x.withUnsafeBufferPointer { x in
            dy.withUnsafeBufferPointer { dy in
                relu.withUnsafeMutableBufferPointer { Vectorized.relu(x.baseAddress!, $0.baseAddress!, count: count) }
                gradient.withUnsafeMutableBufferPointer {
                    Vectorized.reluGradient(dy.baseAddress!, output: x.baseAddress!, $0.baseAddress!, count: count)
                }
                sum.withUnsafeMutableBufferPointer {
                    Vectorized.add(x.baseAddress!, into: $0.baseAddress!, count: count)
                }
                sumOfValue.withUnsafeMutableBufferPointer { Vectorized.add(0.5, to: $0.baseAddress!, count: count) }
            }
        }
        #expect(relu == x.map { max($0, 0) })
        #expect(gradient == zip(x, dy).map { $0 > 0 ? $1 : 0 })
        #expect(sum == zip(x, dy).map { $0 + $1 })
        #expect(sumOfValue == dy.map { $0 + 0.5 })
    }

    @Test(arguments: [(0, 5), (3, 37), (8, 1), (19, 200)])
    func rowSumsHaveTheBitsOfAPlainLoopPerRow(rows: Int, columns: Int) {
        var generator = SeededGenerator(seed: 3)
        let matrix = Tensor.uniform(shape: [rows * columns], in: -1..<1, using: &generator).scalars
        let sums = matrix.withUnsafeBufferPointer {
            Vectorized.rowSums($0.baseAddress ?? UnsafePointer(bitPattern: 8)!, rows: rows, columns: columns)
        }
        let plain = (0..<rows).map { r in
            var total: Float = 0
            for i in 0..<columns { total += matrix[r * columns + i] }
            return total
        }
        #expect(sums.map(\.bitPattern) == plain.map(\.bitPattern))
    }

    @Test func partitionsDependOnlyOnTheSize() {
        #expect(Partition.pieces(128, minimumSize: 32) == [0..<32, 32..<64, 64..<96, 96..<128])
        #expect(Partition.pieces(1000, minimumSize: 32).count == 8)
        #expect(Partition.pieces(10, minimumSize: 32) == [0..<10])
        #expect(Partition.pieces(0, minimumSize: 32).isEmpty)
        for count in [1, 7, 33, 999] {
            let pieces = Partition.pieces(count, minimumSize: 4)
            #expect(pieces.first?.lowerBound == 0 && pieces.last?.upperBound == count)
            #expect(zip(pieces, pieces.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound })
        }
    }
}

struct SeededGeneratorTests {
    @Test func sameSeedSameStreamDifferentSeedDifferentStream() {
        var a = SeededGenerator(seed: 42)
        var b = SeededGenerator(seed: 42)
        var c = SeededGenerator(seed: 43)
        let first = (0..<8).map { _ in a.next() }
        #expect(first == (0..<8).map { _ in b.next() })
        #expect(first != (0..<8).map { _ in c.next() })
        var s1 = SeededGenerator(seed: 1, stream: "epoch-0")
        var s2 = SeededGenerator(seed: 1, stream: "epoch-1")
        #expect(s1.next() != s2.next())
    }

    @Test func permutationIsAPermutationAndUniformIsInRange() {
        var generator = SeededGenerator(seed: 7)
        let permutation = generator.permutation(1000)
        #expect(permutation.sorted() == Array(0..<1000))
        #expect(permutation != Array(0..<1000))
        let values = (0..<10_000).map { _ in generator.nextFloat(in: -2..<3) }
        #expect(values.allSatisfy { $0 >= -2 && $0 < 3 })
        let mean = values.reduce(0, +) / Float(values.count)
        #expect(abs(mean - 0.5) < 0.05)
        let gaussians = (0..<20_000).map { _ in Double(generator.nextGaussian()) }
        let gaussianMean = gaussians.reduce(0, +) / Double(gaussians.count)
        let variance =
            gaussians.map { ($0 - gaussianMean) * ($0 - gaussianMean) }.reduce(0, +) / Double(gaussians.count)
        #expect(abs(gaussianMean) < 0.03 && abs(variance - 1) < 0.05)
        #expect((0..<1000).map { _ in generator.nextInt(below: 3) }.allSatisfy { (0..<3).contains($0) })
    }
}

struct BLASKernelSelectionTests {
    @Test func skylakeXOnlyWithTheAVX512FeaturesItNeeds() {
        let avx512 = "processor : 0\nflags : fpu sse avx avx2 fma avx512f avx512dq avx512cd avx512bw avx512vl\n"
        let avx2 = "processor : 0\nflags : fpu sse avx avx2 fma\n"
        let partial = "flags : avx2 avx512f avx512cd\n"
        #expect(BLASKernelSelection.fastestCoreType(cpuinfo: avx512) == "SkylakeX")
        #expect(BLASKernelSelection.fastestCoreType(cpuinfo: avx2) == nil)
        #expect(BLASKernelSelection.fastestCoreType(cpuinfo: partial) == nil)
        #expect(BLASKernelSelection.fastestCoreType(cpuinfo: nil) == nil)
        #expect(!BLAS.coreName.isEmpty && BLAS.kernelIdentity.hasPrefix("openblas/"))
    }
}
