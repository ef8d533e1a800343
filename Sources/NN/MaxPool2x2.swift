/// The common 2×2, stride-2 max-pooling window over one plane of even width, eight outputs at a time.
///
/// It takes the element a scan of each window in the order top-left, top-right, bottom-left, bottom-right
/// takes: the first NaN, else the first of equal maxima. Pairing each line's neighbours first and then the
/// winners of the two lines gives that element (the top pair's winner is kept unless the bottom one is larger
/// or a NaN the top's is not), and pairing neighbours is one pass over the plane: a line of even width never
/// splits a pair.
enum MaxPool2x2 {
    typealias Lanes = SIMD8<Float>
    typealias Positions = SIMD8<Int32>

    /// Where `candidate` replaces `best`: it is larger, or a NaN while `best` is not.
    @inline(__always)
    private static func takes(_ candidate: Lanes, over best: Lanes) -> SIMDMask<Positions> {
        .!(candidate .<= best) .& (best .== best)
    }

    @inline(__always)
    private static func takes(_ candidate: Float, over best: Float) -> Bool {
        !(candidate <= best) && best == best
    }

    /// Pools the first `2·outH` lines of a plane of `width` (even) columns into `out` ([outH, width/2]) and, when
    /// `positions` is given, each maximum's index within the plane. `pairs` and `pairPositions` are scratch of
    /// `outH·width` elements. Runs whose length is not a multiple of the lanes end with one vector that overlaps
    /// the previous one (it writes the same values again), so no element is left to a branchy scalar loop.
    @inline(__always)
    static func pool(
        _ source: UnsafePointer<Float>, width: Int, outH: Int, into out: UnsafeMutablePointer<Float>,
        positions: UnsafeMutablePointer<Int32>?, pairs: UnsafeMutablePointer<Float>,
        pairPositions: UnsafeMutablePointer<Int32>
    ) {
        let outW = width / 2
        let count = 2 * outH * outW
        guard count >= 8 else {
            return poolScalar(source, width: width, outH: outH, into: out, positions: positions)
        }
        var k = 0
        while k < count {
            let at = min(k, count - 8)
            pairNeighbours(source, at: at, into: pairs, positions: positions == nil ? nil : pairPositions)
            k = at + 8
        }
        for oh in 0..<outH {
            let (top, bottom, row) = (2 * oh * outW, (2 * oh + 1) * outW, oh * outW)
            let lines = Lines(
                upper: pairs + top, lower: pairs + bottom, upperAt: pairPositions + top,
                lowerAt: pairPositions + bottom, out: out + row, positions: positions.map { $0 + row })
            if outW >= 8 {
                var ow = 0
                while ow < outW {
                    let at = min(ow, outW - 8)
                    lines.combine8(at: at)
                    ow = at + 8
                }
            } else if outW >= 4 {
                lines.combine4(at: 0)
                lines.combine4(at: outW - 4)
            } else {
                for ow in 0..<outW { lines.combine1(at: ow) }
            }
        }
    }

    /// Pairs `source[2i]` with `source[2i + 1]` for the eight pairs from `at`.
    @inline(__always)
    private static func pairNeighbours(
        _ source: UnsafePointer<Float>, at k: Int, into pairs: UnsafeMutablePointer<Float>,
        positions: UnsafeMutablePointer<Int32>?
    ) {
        let both = UnsafeRawPointer(source + 2 * k).loadUnaligned(as: SIMD16<Float>.self)
        let (left, right) = (both.evenHalf, both.oddHalf)
        let take = takes(right, over: left)
        UnsafeMutableRawPointer(pairs + k).storeBytes(of: left.replacing(with: right, where: take), as: Lanes.self)
        guard let positions else { return }
        let first = Positions(repeating: Int32(2 * k)) &+ Positions(0, 2, 4, 6, 8, 10, 12, 14)
        UnsafeMutableRawPointer(positions + k).storeBytes(
            of: first.replacing(with: first &+ 1, where: take), as: Positions.self)
    }

    /// The winners of one output line's upper and lower input lines, and where to put the maxima.
    private struct Lines {
        let upper: UnsafePointer<Float>
        let lower: UnsafePointer<Float>
        let upperAt: UnsafePointer<Int32>
        let lowerAt: UnsafePointer<Int32>
        let out: UnsafeMutablePointer<Float>
        let positions: UnsafeMutablePointer<Int32>?

        @inline(__always)
        func combine8(at i: Int) {
            let (top, bottom) = (load(Lanes.self, upper + i), load(Lanes.self, lower + i))
            let take = takes(bottom, over: top)
            UnsafeMutableRawPointer(out + i).storeBytes(of: top.replacing(with: bottom, where: take), as: Lanes.self)
            guard let positions else { return }
            let chosen = load(Positions.self, upperAt + i).replacing(
                with: load(Positions.self, lowerAt + i), where: take)
            UnsafeMutableRawPointer(positions + i).storeBytes(of: chosen, as: Positions.self)
        }

        @inline(__always)
        func combine4(at i: Int) {
            let (top, bottom) = (load(SIMD4<Float>.self, upper + i), load(SIMD4<Float>.self, lower + i))
            let take = .!(bottom .<= top) .& (top .== top)
            UnsafeMutableRawPointer(out + i).storeBytes(
                of: top.replacing(with: bottom, where: take), as: SIMD4<Float>.self)
            guard let positions else { return }
            let chosen = load(SIMD4<Int32>.self, upperAt + i).replacing(
                with: load(SIMD4<Int32>.self, lowerAt + i), where: take)
            UnsafeMutableRawPointer(positions + i).storeBytes(of: chosen, as: SIMD4<Int32>.self)
        }

        @inline(__always)
        func combine1(at i: Int) {
            let take = takes(lower[i], over: upper[i])
            out[i] = take ? lower[i] : upper[i]
            positions?[i] = take ? lowerAt[i] : upperAt[i]
        }
    }

    @inline(__always)
    private static func load<V: SIMD>(_ type: V.Type, _ pointer: UnsafePointer<V.Scalar>) -> V {
        UnsafeRawPointer(pointer).loadUnaligned(as: V.self)
    }

    /// Planes of fewer than 16 elements, one window at a time.
    private static func poolScalar(
        _ source: UnsafePointer<Float>, width: Int, outH: Int, into out: UnsafeMutablePointer<Float>,
        positions: UnsafeMutablePointer<Int32>?
    ) {
        let outW = width / 2
        for oh in 0..<outH {
            for ow in 0..<outW {
                var index = 2 * oh * width + 2 * ow
                for candidate in [index + 1, index + width, index + width + 1]
                where takes(source[candidate], over: source[index]) {
                    index = candidate
                }
                out[oh * outW + ow] = source[index]
                positions?[oh * outW + ow] = Int32(index)
            }
        }
    }
}
