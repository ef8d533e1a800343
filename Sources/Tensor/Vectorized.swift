/// Branch-free element-wise kernels on raw buffers, eight lanes at a time. Pointers may not overlap.
public enum Vectorized {
    public typealias Lanes = SIMD8<Float>

    /// out[i] = max(x[i], 0)
    @inlinable
    public static func relu(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        let zero = Lanes(repeating: 0)
        while i + 8 <= count {
            let v = UnsafeRawPointer(x + i).loadUnaligned(as: Lanes.self)
            UnsafeMutableRawPointer(out + i).storeBytes(of: v.replacing(with: zero, where: v .< zero), as: Lanes.self)
            i += 8
        }
        while i < count {
            out[i] = max(x[i], 0)
            i += 1
        }
    }

    /// out[i] = y[i] > 0 ? dy[i] : 0 (the ReLU gradient, from the ReLU's output y)
    @inlinable
    public static func reluGradient(
        _ dy: UnsafePointer<Float>, output y: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count: Int
    ) {
        var i = 0
        let zero = Lanes(repeating: 0)
        while i + 8 <= count {
            let g = UnsafeRawPointer(dy + i).loadUnaligned(as: Lanes.self)
            let v = UnsafeRawPointer(y + i).loadUnaligned(as: Lanes.self)
            UnsafeMutableRawPointer(out + i).storeBytes(of: zero.replacing(with: g, where: v .> zero), as: Lanes.self)
            i += 8
        }
        while i < count {
            out[i] = y[i] > 0 ? dy[i] : 0
            i += 1
        }
    }

    /// target[i] += value
    @inlinable
    public static func add(_ value: Float, to target: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        let lanes = Lanes(repeating: value)
        while i + 8 <= count {
            let v = UnsafeRawPointer(target + i).loadUnaligned(as: Lanes.self)
            UnsafeMutableRawPointer(target + i).storeBytes(of: v + lanes, as: Lanes.self)
            i += 8
        }
        while i < count {
            target[i] += value
            i += 1
        }
    }

    /// target[i] += source[i]
    @inlinable
    public static func add(_ source: UnsafePointer<Float>, into target: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + 8 <= count {
            let a = UnsafeRawPointer(source + i).loadUnaligned(as: Lanes.self)
            let b = UnsafeRawPointer(target + i).loadUnaligned(as: Lanes.self)
            UnsafeMutableRawPointer(target + i).storeBytes(of: a + b, as: Lanes.self)
            i += 8
        }
        while i < count {
            target[i] += source[i]
            i += 1
        }
    }

    /// sums[r] = matrix[r, 0] + matrix[r, 1] + … left to right: the bits of a plain loop per row, with eight rows
    /// summed side by side so the additions do not wait on each other.
    @inlinable
    public static func rowSums(_ matrix: UnsafePointer<Float>, rows: Int, columns: Int) -> [Float] {
        var sums = [Float](repeating: 0, count: rows)
        sums.withUnsafeMutableBufferPointer { addRowSums(matrix, rows: rows, columns: columns, into: $0.baseAddress!) }
        return sums
    }

    /// sums[r] += matrix[r, 0], then += matrix[r, 1], … left to right, as `rowSums`: matrices given one after the
    /// other sum as the rows of one matrix side by side would.
    @inlinable
    public static func addRowSums(
        _ matrix: UnsafePointer<Float>, rows: Int, columns: Int, into sums: UnsafeMutablePointer<Float>
    ) {
        var r = 0
        while r + 8 <= rows {
            var total = UnsafeRawPointer(sums + r).loadUnaligned(as: Lanes.self)
            let first = matrix + r * columns
            for i in 0..<columns {
                let p = first + i
                total += Lanes(
                    p[0], p[columns], p[2 * columns], p[3 * columns], p[4 * columns], p[5 * columns],
                    p[6 * columns], p[7 * columns])
            }
            UnsafeMutableRawPointer(sums + r).storeBytes(of: total, as: Lanes.self)
            r += 8
        }
        for rest in r..<rows {
            var total = sums[rest]
            for i in 0..<columns { total += matrix[rest * columns + i] }
            sums[rest] = total
        }
    }
}
