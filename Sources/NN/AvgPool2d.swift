import Tensor

/// Average pooling over NCHW input with a square window, stride and zero padding (PyTorch's `nn.AvgPool2d`,
/// floor mode). With `countIncludePad` (PyTorch's default) every window divides by k², padding included;
/// otherwise by the number of input elements it covers.
public final class AvgPool2d: Layer {
    public let kernel: Int
    public let stride: Int
    public let padding: Int
    public let countIncludePad: Bool
    private var inputShape: [Int] = []

    public init(kernel: Int, stride: Int? = nil, padding: Int = 0, countIncludePad: Bool = true) {
        precondition(kernel >= 1 && padding >= 0 && 2 * padding <= kernel, "AvgPool2d needs padding ≤ kernel/2")
        self.kernel = kernel
        self.stride = stride ?? kernel
        self.padding = padding
        self.countIncludePad = countIncludePad
    }

    public func copy() -> Layer {
        AvgPool2d(kernel: kernel, stride: stride, padding: padding, countIncludePad: countIncludePad)
    }

    /// The input rows (or columns) a window starting at output position `o` covers, clipped to the image.
    private func span(_ o: Int, size: Int) -> Range<Int> {
        let start = o * stride - padding
        return max(0, start)..<min(size, start + kernel)
    }

    private func divisor(_ rows: Range<Int>, _ columns: Range<Int>) -> Float {
        countIncludePad ? Float(kernel * kernel) : Float(rows.count * columns.count)
    }

    public func forward(_ input: Tensor, mode: ForwardMode) -> Tensor {
        precondition(input.rank == 4, "AvgPool2d needs NCHW input, got \(input.shape)")
        inputShape = input.shape
        let (planes, height, width) = (input.shape[0] * input.shape[1], input.shape[2], input.shape[3])
        let outH = slidingOutputSize(height, kernel: kernel, stride: stride, padding: padding)
        let outW = slidingOutputSize(width, kernel: kernel, stride: stride, padding: padding)
        return Tensor(shape: [input.shape[0], input.shape[1], outH, outW]) { y in
            input.withUnsafeBufferPointer { x in
                Parallel.forEach(planes, grain: 8) { range in
                    for plane in range {
                        let source = x.baseAddress! + plane * height * width
                        for oh in 0..<outH {
                            let rows = span(oh, size: height)
                            for ow in 0..<outW {
                                let columns = span(ow, size: width)
                                var total: Float = 0
                                for ih in rows {
                                    for iw in columns { total += source[ih * width + iw] }
                                }
                                y[(plane * outH + oh) * outW + ow] = total / divisor(rows, columns)
                            }
                        }
                    }
                }
            }
        }
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        let (height, width) = (inputShape[2], inputShape[3])
        let (outH, outW) = (outputGradient.shape[2], outputGradient.shape[3])
        var inputGradient = Tensor(zeros: inputShape)
        inputGradient.withUnsafeMutableBufferPointer { dx in
            outputGradient.withUnsafeBufferPointer { dy in
                Parallel.forEach(inputShape[0] * inputShape[1], grain: 8) { range in
                    for plane in range {
                        let target = dx.baseAddress! + plane * height * width
                        for oh in 0..<outH {
                            let rows = span(oh, size: height)
                            for ow in 0..<outW {
                                let columns = span(ow, size: width)
                                let share = dy[(plane * outH + oh) * outW + ow] / divisor(rows, columns)
                                for ih in rows {
                                    for iw in columns { target[ih * width + iw] += share }
                                }
                            }
                        }
                    }
                }
            }
        }
        return inputGradient
    }
}
