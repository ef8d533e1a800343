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

    func im2col(_ input: UnsafeBufferPointer<Float>, images: Range<Int>) -> [Float] {
        let plane = outputPlane
        let width = images.count * plane
        return [Float](unsafeUninitializedCapacity: rows * width) { col, initialized in
            Parallel.forEach(rows, grain: 1) { rowRange in
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

    /// Writes one (kh, kw) row of one image: target[oh·OW + ow] = input[oh·s − p + kh, ow·s − p + kw] or 0.
    @inline(__always)
    private func fillRow(_ target: UnsafeMutablePointer<Float>, from source: UnsafePointer<Float>, kh: Int, kw: Int) {
        let outW = outputWidth
        for oh in 0..<outputHeight {
            let ih = oh * stride - padding + kh
            let out = target + oh * outW
            guard ih >= 0 && ih < height else {
                out.update(repeating: 0, count: outW)
                continue
            }
            let line = source + ih * self.width
            for ow in 0..<outW {
                let iw = ow * stride - padding + kw
                out[ow] = (iw >= 0 && iw < self.width) ? line[iw] : 0
            }
        }
    }

    /// Adds a column-gradient matrix back onto the input gradient. Threads own whole channels, and each
    /// element is summed in (kh, kw, oh, ow) order whatever the thread count.
    func col2im(_ col: UnsafeBufferPointer<Float>, images: Range<Int>, into input: UnsafeMutableBufferPointer<Float>) {
        let plane = outputPlane
        let width = images.count * plane
        let outW = outputWidth
        Parallel.forEach(channels * images.count, grain: 1) { range in
            for item in range {
                let (offset, channel) = item.quotientAndRemainder(dividingBy: channels)
                let image = images.lowerBound + offset
                let target = input.baseAddress! + (image * channels + channel) * height * self.width
                for kh in 0..<kernel {
                    for kw in 0..<kernel {
                        let row = (channel * kernel + kh) * kernel + kw
                        let source = col.baseAddress! + row * width + offset * plane
                        for oh in 0..<outputHeight {
                            let ih = oh * stride - padding + kh
                            guard ih >= 0 && ih < height else { continue }
                            let line = target + ih * self.width
                            let sourceLine = source + oh * outW
                            for ow in 0..<outW {
                                let iw = ow * stride - padding + kw
                                if iw >= 0 && iw < self.width { line[iw] += sourceLine[ow] }
                            }
                        }
                    }
                }
            }
        }
    }
}
