import Tensor

/// Shapes of a square-kernel sliding window over one image plane, and the im2col/col2im transforms.
///
/// The column matrix of a chunk of images has one row per (channel, kh, kw) and one column per
/// (image, oh, ow): [C·k·k, images·OH·OW].
struct ConvolutionGeometry {
    let channels: Int
    let height: Int
    let width: Int
    let kernel: Int
    let stride: Int
    let padding: Int

    var outputHeight: Int { slidingOutputSize(height, kernel: kernel, stride: stride, padding: padding) }
    var outputWidth: Int { slidingOutputSize(width, kernel: kernel, stride: stride, padding: padding) }
    var outputPlane: Int { outputHeight * outputWidth }
    var rows: Int { channels * kernel * kernel }

    func im2col(_ input: UnsafeBufferPointer<Float>, images: Range<Int>, serial: Bool = false) -> [Float] {
        let plane = outputPlane
        let width = images.count * plane
        return [Float](unsafeUninitializedCapacity: rows * width) { col, initialized in
            Parallel.forEach(rows, grain: 1, serial: serial) { rowRange in
                for row in rowRange {
                    let channel = row / (kernel * kernel)
                    let kh = (row / kernel) % kernel
                    let kw = row % kernel
                    for (offset, image) in images.enumerated() {
                        let source = input.baseAddress! + (image * channels + channel) * height * self.width
                        let target = col.baseAddress! + row * width + offset * plane
                        fillRow(target, from: source, kh: kh, kw: kw)
                    }
                }
            }
            initialized = rows * width
        }
    }

    /// Output columns `ow` whose input column `ow·s − p + kw` lies inside the image.
    @inline(__always)
    private func validColumns(kw: Int) -> Range<Int> {
        let first = max(0, (padding - kw + stride - 1) / stride)
        let last = min(outputWidth, (width + padding - kw + stride - 1) / stride)
        return first..<max(first, last)
    }

    /// Stride 1 with an output as wide as the input ("same" padding): every row of the column matrix is the
    /// input plane shifted by one offset, so it is filled by one copy instead of one per output line.
    private var isShiftedCopy: Bool { stride == 1 && outputWidth == width && padding < width }

    /// Writes one (kh, kw) row of one image: target[oh·OW + ow] = input[oh·s − p + kh, ow·s − p + kw] or 0.
    @inline(__always)
    private func fillRow(_ target: UnsafeMutablePointer<Float>, from source: UnsafePointer<Float>, kh: Int, kw: Int) {
        if isShiftedCopy { return fillShiftedRow(target, from: source, kh: kh, kw: kw) }
        let outW = outputWidth
        let valid = validColumns(kw: kw)
        for oh in 0..<outputHeight {
            let ih = oh * stride - padding + kh
            let out = target + oh * outW
            guard ih >= 0 && ih < height, !valid.isEmpty else {
                out.update(repeating: 0, count: outW)
                continue
            }
            out.update(repeating: 0, count: valid.lowerBound)
            (out + valid.upperBound).update(repeating: 0, count: outW - valid.upperBound)
            let line = source + ih * self.width - padding + kw
            if stride == 1 {
                (out + valid.lowerBound).update(from: line + valid.lowerBound, count: valid.count)
            } else {
                for ow in valid { out[ow] = line[ow * stride] }
            }
        }
    }

    /// Where a (kh, kw) row of a shifted-copy geometry (`isShiftedCopy`) meets the plane: row entry t pairs with
    /// input element t + `shift` for t in `low..<high` (the output lines whose input line exists, clipped to the
    /// plane), and in each of `lines` the `edge` columns are the ones that wrapped around a line's edge.
    private struct ShiftedRow {
        let shift: Int
        let low: Int
        let high: Int
        let lines: Range<Int>
        let edge: Range<Int>
    }

    @inline(__always)
    private func shiftedRow(kh: Int, kw: Int) -> ShiftedRow {
        let (lineShift, columnShift) = (kh - padding, kw - padding)
        let firstLine = max(0, -lineShift)
        let endLine = max(firstLine, min(outputHeight, height - lineShift))
        let (start, end) = (firstLine * width, endLine * width)
        let shift = lineShift * width + columnShift
        // Only a wrapped edge column can fall outside the plane.
        let low = min(end, max(start, -shift))
        return ShiftedRow(
            shift: shift, low: low, high: max(low, min(end, height * width - shift)), lines: firstLine..<endLine,
            edge: columnShift < 0 ? 0..<(-columnShift) : (width - columnShift)..<width)
    }

    /// `fillRow` when `isShiftedCopy`: target[t] = input[t + (kh − p)·W + (kw − p)] over the output lines whose
    /// input line exists, then the columns that wrapped around a line's edge are zeroed (the same values).
    @inline(__always)
    private func fillShiftedRow(
        _ target: UnsafeMutablePointer<Float>, from source: UnsafePointer<Float>, kh: Int, kw: Int
    ) {
        let row = shiftedRow(kh: kh, kw: kw)
        target.update(repeating: 0, count: row.low)
        (target + row.low).update(from: source + row.low + row.shift, count: row.high - row.low)
        (target + row.high).update(repeating: 0, count: outputPlane - row.high)
        for line in row.lines {
            for column in row.edge { target[line * width + column] = 0 }
        }
    }

    /// Writes the input gradient of a chunk's images from its column-gradient matrix (the planes need no
    /// zeroing first). Threads own whole channels, and each element is summed in (kh, kw, oh, ow) order onto
    /// zero whatever the thread count. The matrix is scratch: a shifted row's wrapped entries are overwritten.
    func col2im(
        _ col: UnsafeMutableBufferPointer<Float>, images: Range<Int>, into input: UnsafeMutableBufferPointer<Float>,
        serial: Bool = false
    ) {
        let plane = outputPlane
        let width = images.count * plane
        let outW = outputWidth
        Parallel.forEach(channels * images.count, grain: 1, serial: serial) { range in
            for item in range {
                let (offset, channel) = item.quotientAndRemainder(dividingBy: channels)
                let image = images.lowerBound + offset
                let target = input.baseAddress! + (image * channels + channel) * height * self.width
                target.update(repeating: 0, count: height * self.width)
                for kh in 0..<kernel {
                    for kw in 0..<kernel {
                        let row = (channel * kernel + kh) * kernel + kw
                        let source = col.baseAddress! + row * width + offset * plane
                        if isShiftedCopy {
                            addShiftedRow(source, into: target, kh: kh, kw: kw)
                            continue
                        }
                        let valid = validColumns(kw: kw)
                        for oh in 0..<outputHeight {
                            let ih = oh * stride - padding + kh
                            guard ih >= 0 && ih < height else { continue }
                            let line = target + ih * self.width - padding + kw
                            let sourceLine = source + oh * outW
                            if stride == 1 {
                                Vectorized.add(
                                    sourceLine + valid.lowerBound, into: line + valid.lowerBound, count: valid.count)
                            } else {
                                for ow in valid { line[ow * stride] += sourceLine[ow] }
                            }
                        }
                    }
                }
            }
        }
    }

    /// `col2im`'s (kh, kw) row when `isShiftedCopy`, as one addition over the plane instead of one per line:
    /// input[t + (kh − p)·W + (kw − p)] += row[t] over the output lines whose input line exists. The entries
    /// that would wrap around a line's edge are first set to −0, which added to any value leaves its bits, so
    /// every element gets the same sums in the same order as line by line.
    @inline(__always)
    private func addShiftedRow(
        _ source: UnsafeMutablePointer<Float>, into target: UnsafeMutablePointer<Float>, kh: Int, kw: Int
    ) {
        let row = shiftedRow(kh: kh, kw: kw)
        for line in row.lines {
            for column in row.edge { source[line * width + column] = -0.0 }
        }
        Vectorized.add(source + row.low, into: target + row.low + row.shift, count: row.high - row.low)
    }
}
