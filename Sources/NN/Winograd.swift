/// Winograd's minimal filtering F(2×2, 3×3) (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks",
/// CVPR 2016) for 3×3 convolutions with stride 1 and padding 1. Each 2×2 block of output (a *tile*) comes from
/// the 4×4 window of padded input around it: with the transforms below, a chunk's convolution is 16 products
/// U[ξ]·V[ξ], one per position ξ of the 4×4 transformed window, each [out, in]·[in, tiles], 2.25× fewer
/// multiply-accumulates than im2col's one [out, 9·in]·[9·in, pixels].
///
///     V = Bᵀ d B  (input window d, 4×4)     U = G g Gᵀ  (kernel g, 3×3)     Y = Aᵀ (U ⊙ V) A  (2×2 output)
///
/// The transforms only add, subtract and halve, in a fixed order, so their bits are the same on every CPU. The
/// backward pass differentiates these formulas exactly: ∂M = A ∂Y Aᵀ, ∂U[ξ] = ∂M[ξ]·V[ξ]ᵀ, ∂V[ξ] = U[ξ]ᵀ·∂M[ξ],
/// ∂d = B ∂V Bᵀ (windows overlapping by two pixels add up), ∂g = Gᵀ ∂U G.
///
/// Transformed matrices are laid out [ξ][channel][tile], with `stride` (`rowStride`) floats from one channel's row
/// to the next and tiles numbered image by image, then row by row within an image. The transforms run eight
/// tiles of a tile row at a time: a line's even and odd columns are the two halves of a 16-lane load.
struct WinogradTiling {
    /// Height and width of the input planes, which are also the output's.
    let height: Int
    let width: Int

    static let positions = 16

    var tileRows: Int { (height + 1) / 2 }
    var tileColumns: Int { (width + 1) / 2 }
    var tilesPerImage: Int { tileRows * tileColumns }
    /// Scratch lines for a tile row: two columns per tile, a padding column on each side, and room for the last
    /// tiles' 16-lane loads.
    var lineLength: Int { 2 * tileColumns + 18 }

    /// Floats from one channel's row of a transformed matrix to the next for `tiles` tiles: eight more, which
    /// the last tiles' eight-lane stores may spill into.
    static func rowStride(tiles: Int) -> Int { tiles + 8 }

    /// U[ξ][o][c] = (G g Gᵀ)[ξ] for every kernel g = weight[o, c] ([out, in, 3, 3]), G = [1 0 0; ½ ½ ½; ½ −½ ½;
    /// 0 0 1].
    static func transformWeights(_ weight: UnsafePointer<Float>, outChannels: Int, inChannels: Int) -> [Float] {
        let block = outChannels * inChannels
        return [Float](unsafeUninitializedCapacity: positions * block) { u, initialized in
            for kernel in 0..<block {
                let g = weight + kernel * 9
                for i in 0..<4 {
                    // Row i of G g.
                    let (a, b, c) =
                        switch i {
                        case 0: (g[0], g[1], g[2])
                        case 1: (0.5 * (g[0] + g[3] + g[6]), 0.5 * (g[1] + g[4] + g[7]), 0.5 * (g[2] + g[5] + g[8]))
                        case 2: (0.5 * (g[0] - g[3] + g[6]), 0.5 * (g[1] - g[4] + g[7]), 0.5 * (g[2] - g[5] + g[8]))
                        default: (g[6], g[7], g[8])
                        }
                    let row = u.baseAddress! + 4 * i * block + kernel
                    row[0] = a
                    row[block] = 0.5 * (a + b + c)
                    row[2 * block] = 0.5 * (a - b + c)
                    row[3 * block] = c
                }
            }
            initialized = positions * block
        }
    }

    /// ∂weight[o, c] = Gᵀ ∂U[·][o][c] G, written over `gradient` ([out, in, 3, 3]).
    static func weightGradient(
        _ du: UnsafePointer<Float>, outChannels: Int, inChannels: Int, into gradient: UnsafeMutablePointer<Float>
    ) {
        let block = outChannels * inChannels
        for kernel in 0..<block {
            let (u, g) = (du + kernel, gradient + kernel * 9)
            for i in 0..<3 {
                // Row i of Gᵀ ∂U.
                func entry(_ j: Int) -> Float {
                    let (u0, u1, u2, u3) = (u[j * block], u[(4 + j) * block], u[(8 + j) * block], u[(12 + j) * block])
                    switch i {
                    case 0: return u0 + 0.5 * (u1 + u2)
                    case 1: return 0.5 * (u1 - u2)
                    default: return 0.5 * (u1 + u2) + u3
                    }
                }
                let (a, b, c, d) = (entry(0), entry(1), entry(2), entry(3))
                g[3 * i] = a + 0.5 * (b + c)
                g[3 * i + 1] = 0.5 * (b - c)
                g[3 * i + 2] = 0.5 * (b + c) + d
            }
        }
    }

    /// V[ξ][c][tile] = (Bᵀ d B)[ξ] for every 4×4 window d of `imageCount` images' planes ([images, channelCount,
    /// H, W] from `input`; zero outside), Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1], for the channels in
    /// `channels`.
    func transformInput(
        _ input: UnsafePointer<Float>, imageCount: Int, channelCount: Int, channels: Range<Int>,
        into v: UnsafeMutablePointer<Float>, stride: Int
    ) {
        let (tc, plane, positionStride, length) = (tileColumns, height * width, channelCount * stride, lineLength)
        // Bᵀ d's four rows for every tile row (line 4·ty + i, column x + 1 from input column x), then a zero line.
        // All tile rows are transformed down before any across, so that the 16-lane loads do not wait on the
        // stores that wrote their lines.
        let lines = 4 * tileRows
        withZeroedScratch((lines + 1) * length) { t in
            let zeros = UnsafePointer(t + lines * length)
            for image in 0..<imageCount {
                for c in channels {
                    let source = input + (image * channelCount + c) * plane
                    func line(_ y: Int) -> UnsafePointer<Float> { y >= 0 && y < height ? source + y * width : zeros }
                    for ty in 0..<tileRows {
                        let (d0, d1, d2, d3) = (line(2 * ty - 1), line(2 * ty), line(2 * ty + 1), line(2 * ty + 2))
                        let t0 = t + 4 * ty * length + 1
                        forEachLane(width) { x in
                            let (a, b, c, d) = (x.load(d0), x.load(d1), x.load(d2), x.load(d3))
                            x.store(a - c, t0)
                            x.store(b + c, t0 + length)
                            x.store(c - b, t0 + 2 * length)
                            x.store(b - d, t0 + 3 * length)
                        }
                    }
                    for ty in 0..<tileRows {
                        let tiles = v + c * stride + image * tilesPerImage + ty * tc
                        for tx in Swift.stride(from: 0, to: tc, by: 8) {
                            // Row i of (Bᵀ d) B from columns (2k, 2k + 1, 2k + 2, 2k + 3) = (e, o, f, p) of row i:
                            // (e − f, o + f, f − o, o − p).
                            for i in 0..<4 {
                                let row = t + (4 * ty + i) * length + 2 * tx
                                let (near, far) = (load16(row), load16(row + 2))
                                let (e, o, f, p) = (near.evenHalf, near.oddHalf, far.evenHalf, far.oddHalf)
                                let out = tiles + 4 * i * positionStride + tx
                                store(e - f, out)
                                store(o + f, out + positionStride)
                                store(f - o, out + 2 * positionStride)
                                store(o - p, out + 3 * positionStride)
                            }
                        }
                    }
                }
            }
        }
    }

    /// The output planes of `imageCount` images ([images, outChannelCount, H, W] into `output`) from M[ξ][o][tile] =
    /// (U[ξ]·V[ξ])[o, tile] (`m`; its columns past the tiles are read, their results dropped): Y = Aᵀ M A + bias
    /// for every tile, Aᵀ = [1 1 1 0; 0 1 −1 −1], for the channels in `channels`.
    func transformOutput(
        _ m: UnsafePointer<Float>, stride: Int, outChannelCount: Int, channels: Range<Int>, imageCount: Int,
        bias: [Float]?, into output: UnsafeMutablePointer<Float>
    ) {
        let (tc, plane, positionStride) = (tileColumns, height * width, outChannelCount * stride)
        // The plane as the tiles write it: whole 2×2 blocks, line after line with the plane's width, each line's
        // last 16-lane store spilling into the next line (written after it) or past the plane. Two such planes
        // take turns, each copied out while the next is written, so the copy does not wait on the stores.
        let written = 2 * tileRows * width + 2 * tc + 16
        withZeroedScratch(2 * written) { planes in
            var pending: (source: UnsafeMutablePointer<Float>, target: UnsafeMutablePointer<Float>)? = nil
            for image in 0..<imageCount {
                for o in channels {
                    let b = Lanes(repeating: bias?[o] ?? 0)
                    let buffer = pending?.source == planes ? planes + written : planes
                    for ty in 0..<tileRows {
                        let tiles = m + o * stride + image * tilesPerImage + ty * tc
                        let (top, bottom) = (buffer + 2 * ty * width, buffer + (2 * ty + 1) * width)
                        func write(_ r: Int, _ line: UnsafeMutablePointer<Float>) {
                            for tx in Swift.stride(from: 0, to: tc, by: 8) {
                                let (left, right) = Self.outputRow(
                                    r, of: tiles + tx, positionStride: positionStride, bias: b)
                                store16(interleaving(left, right), line + 2 * tx)
                            }
                        }
                        // The top line first: its last store spills into the bottom one.
                        write(0, top)
                        write(1, bottom)
                    }
                    if let pending { pending.target.update(from: pending.source, count: plane) }
                    pending = (buffer, output + (image * outChannelCount + o) * plane)
                }
            }
            if let pending { pending.target.update(from: pending.source, count: plane) }
        }
    }

    /// Line r (0: top, 1: bottom) of Y = Aᵀ M A + bias for eight tiles, whose M[ξ] start at `tiles` with
    /// `positionStride` floats from one position to the next: each tile's left and right output.
    @inline(__always)
    private static func outputRow(
        _ r: Int, of tiles: UnsafePointer<Float>, positionStride: Int, bias: Lanes
    ) -> (left: Lanes, right: Lanes) {
        func at(_ position: Int) -> Lanes { load(tiles + position * positionStride) }
        // Column j of Aᵀ M's line r.
        func column(_ j: Int) -> Lanes { r == 0 ? at(j) + at(4 + j) + at(8 + j) : at(4 + j) - at(8 + j) - at(12 + j) }
        let (c0, c1, c2, c3) = (column(0), column(1), column(2), column(3))
        return (c0 + c1 + c2 + bias, c1 - c2 - c3 + bias)
    }

    /// `transformOutput` followed by a 2×2, stride-2 max-pool and a ReLU, for inference on planes of even width:
    /// each tile's 2×2 block is one pooling window, so the pooled, rectified planes ([images, outChannelCount,
    /// H/2, W/2] into `pooled`) come straight from the tiles, with the values, window choice (`MaxPool2x2.window`)
    /// and rectification (`Vectorized.relu`'s) of the three passes one after the other. An odd height's last tile
    /// row is in no window.
    func transformOutputPooledRectified(
        _ m: UnsafePointer<Float>, stride: Int, outChannelCount: Int, channels: Range<Int>, imageCount: Int,
        bias: [Float]?, into pooled: UnsafeMutablePointer<Float>
    ) {
        precondition(width % 2 == 0, "pooling in the output transform needs an even width")
        let (tc, positionStride, pooledRows) = (tileColumns, outChannelCount * stride, height / 2)
        let pooledPlane = pooledRows * tc
        let zero = Lanes(repeating: 0)
        // One pooled plane as the tiles write it, a tile row's last 8-lane store spilling into the next (written
        // after it) or past the plane; copied out whole.
        withZeroedScratch(pooledPlane + 8) { written in
            for image in 0..<imageCount {
                for o in channels {
                    let b = Lanes(repeating: bias?[o] ?? 0)
                    for ty in 0..<pooledRows {
                        let tiles = m + o * stride + image * tilesPerImage + ty * tc
                        for tx in Swift.stride(from: 0, to: tc, by: 8) {
                            let top = Self.outputRow(0, of: tiles + tx, positionStride: positionStride, bias: b)
                            let bottom = Self.outputRow(1, of: tiles + tx, positionStride: positionStride, bias: b)
                            let maxima = MaxPool2x2.window(top.left, top.right, bottom.left, bottom.right)
                            store(maxima.replacing(with: zero, where: maxima .< zero), written + ty * tc + tx)
                        }
                    }
                    (pooled + (image * outChannelCount + o) * pooledPlane).update(from: written, count: pooledPlane)
                }
            }
        }
    }

    /// ∂M[ξ][o][tile] = (A ∂Y Aᵀ)[ξ] for every tile of `imageCount` images' output gradient ([images,
    /// outChannelCount, H, W] from `gradient`; pixels beyond an odd edge count as zero), for the channels in
    /// `channels`, A = [1 0; 1 1; 1 −1; 0 −1].
    func transformOutputGradient(
        _ gradient: UnsafePointer<Float>, imageCount: Int, outChannelCount: Int, channels: Range<Int>,
        into dm: UnsafeMutablePointer<Float>, stride: Int
    ) {
        let (tc, plane, positionStride) = (tileColumns, height * width, outChannelCount * stride)
        // A copy of the plane followed by zeros, read line by line with the plane's width: a line's 16-lane loads
        // run into the next line only in lanes past the last tile, or past an odd width's last column (zeroed).
        // Two such copies take turns, the next plane copied before this one is read, so the loads do not wait on
        // the copy's stores.
        let copied = plane + 2 * width + 2 * tc + 16
        withZeroedScratch(2 * copied) { copies in
            let planes = channels.count * imageCount
            func copy(_ index: Int) {
                let (image, channel) = (index / channels.count, channels.lowerBound + index % channels.count)
                (copies + (index & 1) * copied).update(
                    from: gradient + (image * outChannelCount + channel) * plane, count: plane)
            }
            if planes > 0 { copy(0) }
            for index in 0..<planes {
                if index + 1 < planes { copy(index + 1) }
                let (image, channel) = (index / channels.count, channels.lowerBound + index % channels.count)
                let source = copies + (index & 1) * copied
                for ty in 0..<tileRows {
                    let tiles = dm + channel * stride + image * tilesPerImage + ty * tc
                    for tx in Swift.stride(from: 0, to: tc, by: 8) {
                        let top = load16(source + 2 * ty * width + 2 * tx)
                        let bottom = load16(source + (2 * ty + 1) * width + 2 * tx)
                        // Tiles whose right column lies past the plane (an odd width's last tile).
                        let outside =
                            SIMD8<Int32>(0, 1, 2, 3, 4, 5, 6, 7) .>= SIMD8<Int32>(repeating: Int32(width / 2 - tx))
                        let (a0, a1) = (top.evenHalf, bottom.evenHalf)
                        let (b0, b1) = (
                            top.oddHalf.replacing(with: 0, where: outside),
                            bottom.oddHalf.replacing(with: 0, where: outside)
                        )
                        // A ∂Y's row i for the tiles' left (a) and right (b) columns, then its row of A ∂Y Aᵀ.
                        func row(_ i: Int, _ a: Lanes, _ b: Lanes) {
                            let out = tiles + 4 * i * positionStride + tx
                            store(a, out)
                            store(a + b, out + positionStride)
                            store(a - b, out + 2 * positionStride)
                            store(-b, out + 3 * positionStride)
                        }
                        row(0, a0, b0)
                        row(1, a0 + a1, b0 + b1)
                        row(2, a0 - a1, b0 - b1)
                        row(3, -a1, -b1)
                    }
                }
            }
        }
    }

    /// The input gradient of `imageCount` images ([images, channelCount, H, W] into `gradient`, written whole)
    /// from ∂V[ξ][c][tile]: ∂d = B ∂V Bᵀ for every tile, the windows' overlapping pixels added up tile row by tile
    /// row, for the channels in `channels`.
    func inputGradient(
        _ dv: UnsafePointer<Float>, stride: Int, channelCount: Int, channels: Range<Int>, imageCount: Int,
        into gradient: UnsafeMutablePointer<Float>
    ) {
        let (tc, plane, positionStride) = (tileColumns, height * width, channelCount * stride)
        // The padded plane's gradient, its even columns (line y: even[y·half + k] is padded column 2k) apart from
        // its odd ones, so that a tile row's four lines take each block of tiles with aligned 8-lane additions.
        let (half, lines) = (tc + 16, 2 * tileRows + 2)
        withZeroedScratch(2 * lines * half) { even in
            let odd = even + lines * half
            for image in 0..<imageCount {
                for c in channels {
                    even.update(repeating: 0, count: 2 * lines * half)
                    for ty in 0..<tileRows {
                        let tiles = dv + c * stride + image * tilesPerImage + ty * tc
                        // What a block's last tile adds to the next block's first columns, per line.
                        var (evenCarries, oddCarries) = (SIMD4<Float>(), SIMD4<Float>())
                        for tx in Swift.stride(from: 0, to: tc, by: 8) {
                            // Lanes past the tile row would add their neighbours' values: they add zeros.
                            let outside =
                                SIMD8<Int32>(0, 1, 2, 3, 4, 5, 6, 7) .>= SIMD8<Int32>(repeating: Int32(tc - tx))
                            func at(_ position: Int) -> Lanes {
                                load(tiles + position * positionStride + tx).replacing(with: 0, where: outside)
                            }
                            // Column j of B ∂V: its four rows.
                            func column(_ j: Int) -> (Lanes, Lanes, Lanes, Lanes) {
                                let (x0, x1, x2, x3) = (at(j), at(4 + j), at(8 + j), at(12 + j))
                                return (x0, x1 - x2 + x3, -x0 + x1 + x2, -x3)
                            }
                            let (z0, z1, z2, z3) = (column(0), column(1), column(2), column(3))
                            // Row r of B ∂V Bᵀ for tile k covers padded columns 2k…2k + 3 of line 2·ty + r: even
                            // column 2k takes p0[k] and the previous tile's p2, odd column 2k + 1 p1[k] and p3.
                            func add(_ r: Int, _ a: Lanes, _ b: Lanes, _ c: Lanes, _ d: Lanes) {
                                let (p0, p1, p2, p3) = (a, b - c + d, -a + b + c, -d)
                                let (e, o) = (even + (2 * ty + r) * half + tx, odd + (2 * ty + r) * half + tx)
                                store(load(e) + (p0 + shiftedUp(p2, carry: evenCarries[r])), e)
                                store(load(o) + (p1 + shiftedUp(p3, carry: oddCarries[r])), o)
                                (evenCarries[r], oddCarries[r]) = (p2[7], p3[7])
                            }
                            add(0, z0.0, z1.0, z2.0, z3.0)
                            add(1, z0.1, z1.1, z2.1, z3.1)
                            add(2, z0.2, z1.2, z2.2, z3.2)
                            add(3, z0.3, z1.3, z2.3, z3.3)
                        }
                        // The last block's carries land past it.
                        let end = (tc + 7) / 8 * 8
                        for r in 0..<4 {
                            even[(2 * ty + r) * half + end] += evenCarries[r]
                            odd[(2 * ty + r) * half + end] += oddCarries[r]
                        }
                    }
                    // Pixel (y, x) is padded line y + 1, column x + 1.
                    let target = gradient + (image * channelCount + c) * plane
                    for y in 0..<height {
                        let (e, o, line) = (even + (y + 1) * half, odd + (y + 1) * half, target + y * width)
                        for x in 0..<width { line[x] = x & 1 == 0 ? o[x >> 1] : e[(x + 1) >> 1] }
                    }
                }
            }
        }
    }
}

// Eight- and sixteen-lane loads and stores for the transforms.
private typealias Lanes = SIMD8<Float>

@inline(__always)
private func load(_ p: UnsafePointer<Float>) -> Lanes { UnsafeRawPointer(p).loadUnaligned(as: Lanes.self) }

@inline(__always)
private func store(_ value: Lanes, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: value, as: Lanes.self)
}

@inline(__always)
private func load16(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
}

@inline(__always)
private func store16(_ value: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: value, as: SIMD16<Float>.self)
}

/// (carry, v[0], …, v[6])
@inline(__always)
private func shiftedUp(_ v: Lanes, carry: Float) -> Lanes { Lanes(carry, v[0], v[1], v[2], v[3], v[4], v[5], v[6]) }

/// (a[0], b[0], a[1], b[1], …, a[7], b[7])
@inline(__always)
private func interleaving(_ a: Lanes, _ b: Lanes) -> SIMD16<Float> {
    SIMD16(a[0], b[0], a[1], b[1], a[2], b[2], a[3], b[3], a[4], b[4], a[5], b[5], a[6], b[6], a[7], b[7])
}

/// Runs `body` over 0..<count eight lanes at a time, the last eight overlapping the block before them where
/// `count` is not a multiple of eight (`body` must write the same values for a lane whichever block covers it);
/// lane by lane when `count` < 8.
@inline(__always)
private func forEachLane(_ count: Int, _ body: (LaneBlock) -> Void) {
    guard count >= 8 else {
        for start in 0..<count { body(LaneBlock(start: start, wide: false)) }
        return
    }
    var start = 0
    while start + 8 <= count {
        body(LaneBlock(start: start, wide: true))
        start += 8
    }
    if start < count { body(LaneBlock(start: count - 8, wide: true)) }
}

/// Eight consecutive floats from `start`, or one when not `wide`.
private struct LaneBlock {
    let start: Int
    let wide: Bool

    @inline(__always)
    func load(_ p: UnsafePointer<Float>) -> Lanes {
        wide ? UnsafeRawPointer(p + start).loadUnaligned(as: Lanes.self) : Lanes(repeating: p[start])
    }

    @inline(__always)
    func store(_ value: Lanes, _ p: UnsafeMutablePointer<Float>) {
        if wide {
            UnsafeMutableRawPointer(p + start).storeBytes(of: value, as: Lanes.self)
        } else {
            p[start] = value[0]
        }
    }
}

/// Runs `body` with `count` zeroed floats of scratch.
@inline(__always)
private func withZeroedScratch(_ count: Int, _ body: (UnsafeMutablePointer<Float>) -> Void) {
    withUnsafeTemporaryAllocation(of: Float.self, capacity: count) { scratch in
        scratch.initialize(repeating: 0)
        body(scratch.baseAddress!)
    }
}
