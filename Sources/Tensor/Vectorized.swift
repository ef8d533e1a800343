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
        var r = 0
        while r + 8 <= rows {
            var total = Lanes(repeating: 0)
            let first = matrix + r * columns
            for i in 0..<columns {
                let p = first + i
                total += Lanes(
                    p[0], p[columns], p[2 * columns], p[3 * columns], p[4 * columns], p[5 * columns],
                    p[6 * columns], p[7 * columns])
            }
            for lane in 0..<8 { sums[r + lane] = total[lane] }
            r += 8
        }
        for rest in r..<rows {
            var total: Float = 0
            for i in 0..<columns { total += matrix[rest * columns + i] }
            sums[rest] = total
        }
        return sums
    }
}
