/// Element-wise arithmetic and reductions. Loops run in index order, so results are reproducible.
extension Tensor {
    public static func + (lhs: Tensor, rhs: Tensor) -> Tensor {
        precondition(lhs.shape == rhs.shape, "shape mismatch: \(lhs.shape) + \(rhs.shape)")
        var result = lhs
        result.add(rhs)
        return result
    }

    public static func - (lhs: Tensor, rhs: Tensor) -> Tensor {
        precondition(lhs.shape == rhs.shape, "shape mismatch: \(lhs.shape) - \(rhs.shape)")
        var result = lhs
        result.add(rhs, scaledBy: -1)
        return result
    }

    public static func * (lhs: Float, rhs: Tensor) -> Tensor {
        var result = rhs
        result.scale(by: lhs)
        return result
    }

    /// self += factor · other
    public mutating func add(_ other: Tensor, scaledBy factor: Float = 1) {
        precondition(count == other.count, "size mismatch: \(shape) += \(other.shape)")
        other.scalars.withUnsafeBufferPointer { source in
            scalars.withUnsafeMutableBufferPointer { target in
                if factor == 1, let from = source.baseAddress, let into = target.baseAddress {
                    Vectorized.add(from, into: into, count: target.count)
                } else {
                    for i in 0..<target.count { target[i] += factor * source[i] }
                }
            }
        }
    }

    /// Rows [start, start + other.rows) += factor · other.
    public mutating func addRows(_ other: Tensor, at start: Int, scaledBy factor: Float = 1) {
        let rowSize = shape.dropFirst().reduce(1, *)
        precondition(
            Array(other.shape.dropFirst()) == Array(shape.dropFirst()) && start >= 0
                && start + other.shape[0] <= shape[0], "addRows: \(other.shape) at row \(start) of \(shape)")
        other.scalars.withUnsafeBufferPointer { source in
            scalars.withUnsafeMutableBufferPointer { target in
                let base = start * rowSize
                for i in 0..<source.count { target[base + i] += factor * source[i] }
            }
        }
    }

    public mutating func scale(by factor: Float) {
        scalars.withUnsafeMutableBufferPointer { target in
            for i in 0..<target.count { target[i] *= factor }
        }
    }

    public mutating func fill(_ value: Float) {
        scalars.withUnsafeMutableBufferPointer { target in
            for i in 0..<target.count { target[i] = value }
        }
    }

    public func map(_ transform: (Float) -> Float) -> Tensor {
        Tensor(shape: shape, scalars: scalars.map(transform))
    }

    /// Sum of all elements, accumulated in Double.
    public func sum() -> Double {
        scalars.withUnsafeBufferPointer { buffer in
            var total = 0.0
            for value in buffer { total += Double(value) }
            return total
        }
    }

    public func squaredNorm() -> Double {
        scalars.withUnsafeBufferPointer { buffer in
            var total = 0.0
            for value in buffer { total += Double(value) * Double(value) }
            return total
        }
    }

    public var isFinite: Bool { scalars.allSatisfy { $0.isFinite } }

    /// Index of the largest element in each row of a [rows, columns] tensor (first one on ties).
    public func argmaxRows() -> [Int] {
        precondition(rank == 2, "argmaxRows needs a matrix, got \(shape)")
        let columns = shape[1]
        return scalars.withUnsafeBufferPointer { buffer in
            (0..<shape[0]).map { row in
                var best = 0
                for column in 1..<max(columns, 1) where buffer[row * columns + column] > buffer[row * columns + best] {
                    best = column
                }
                return best
            }
        }
    }

    /// Matrix product of two rank-2 tensors.
    public func matmul(_ other: Tensor, transposeSelf: Bool = false, transposeOther: Bool = false) -> Tensor {
        precondition(rank == 2 && other.rank == 2, "matmul needs matrices")
        let m = transposeSelf ? shape[1] : shape[0]
        let k = transposeSelf ? shape[0] : shape[1]
        let otherK = transposeOther ? other.shape[1] : other.shape[0]
        let n = transposeOther ? other.shape[0] : other.shape[1]
        precondition(k == otherK, "matmul inner dimensions differ: \(shape) · \(other.shape)")
        var result = Tensor(zeros: [m, n])
        scalars.withUnsafeBufferPointer { a in
            other.scalars.withUnsafeBufferPointer { b in
                result.scalars.withUnsafeMutableBufferPointer { c in
                    BLAS.sgemm(
                        transposeA: transposeSelf, transposeB: transposeOther, m: m, n: n, k: k,
                        a: a.baseAddress!, lda: shape[1], b: b.baseAddress!, ldb: other.shape[1],
                        c: c.baseAddress!, ldc: n)
                }
            }
        }
        return result
    }
}
