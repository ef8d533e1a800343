import Tensor

/// A dataset's images [N, C, H, W] as models read them (normalised float32), held either as those floats or as the
/// uint8 pixels they are converted from, with the normalisation's table, when they came from uint8 files (IDX,
/// CIFAR, uint8 NumPy). Pixels take a quarter of the memory and are converted only as rows are taken: loading
/// FashionMNIST's training set keeps its 47 MB of pixels instead of writing 188 MB of floats into fresh pages. A row
/// converted from pixels has the bits the whole set's conversion gives it (the same table).
public struct DatasetImages: Sendable {
    /// [N, C, H, W].
    public let shape: [Int]
    private let storage: Storage

    private enum Storage: Sendable {
        case floats(Tensor)
        case pixels(Pixels)
    }

    /// Images held as floats.
    public init(_ floats: Tensor) {
        precondition(floats.rank == 4, "dataset images must be [N, C, H, W], got \(floats.shape)")
        shape = floats.shape
        storage = .floats(floats)
    }

    /// `count` images of `channels` × `height` × `width` uint8 pixels in CHW order, image `n`'s from
    /// `bytes[offset + n · recordStride]` on, read as (pixel / 255 − mean[c]) / std[c].
    public init(
        pixels bytes: [UInt8], offset: Int, recordStride: Int, count: Int, channels: Int, height: Int, width: Int,
        mean: [Float], std: [Float]
    ) {
        precondition(count == 0 || offset + (count - 1) * recordStride + channels * height * width <= bytes.count)
        precondition(mean.count == channels && std.count == channels, "one mean and std per channel")
        shape = [count, channels, height, width]
        storage = .pixels(
            Pixels(
                bytes: bytes, offset: offset, recordStride: recordStride, imageSize: channels * height * width,
                table: Pixels.table(mean: mean, std: std)))
    }

    /// Number of images.
    public var count: Int { shape[0] }

    /// Whether the images are held as uint8 pixels (converted as rows are taken) rather than floats.
    public var heldAsPixels: Bool {
        if case .pixels = storage { true } else { false }
    }

    /// Floats in one image.
    public var imageSize: Int { shape.dropFirst().reduce(1, *) }

    /// The images at `indices` [indices.count, C, H, W], in the order given (repeats allowed).
    public func rows(_ indices: [Int]) -> Tensor {
        switch storage {
        case .floats(let tensor): return tensor.gather(rows: indices)
        case .pixels(let pixels):
            checkRows(indices)
            let imageSize = imageSize
            return Tensor(shape: [indices.count] + shape.dropFirst()) { destination in
                for (row, index) in indices.enumerated() {
                    pixels.convert(image: index, into: destination.baseAddress! + row * imageSize)
                }
            }
        }
    }

    /// Every image as one tensor: converted now (on every core) when held as pixels, so a batch or a subset should
    /// take `rows` or `subset` instead.
    public var tensor: Tensor {
        switch storage {
        case .floats(let tensor): return tensor
        case .pixels(let pixels):
            let imageSize = imageSize
            return Tensor(shape: shape) { destination in
                Parallel.forEach(count, grain: 512) { images in
                    for n in images {
                        pixels.convert(image: n, into: destination.baseAddress! + n * imageSize)
                    }
                }
            }
        }
    }

    /// The images at `indices`, held as these are (pixels stay pixels).
    public func subset(_ indices: [Int]) -> DatasetImages {
        switch storage {
        case .floats(let tensor): return DatasetImages(tensor.gather(rows: indices))
        case .pixels(let pixels):
            checkRows(indices)
            return DatasetImages(shape: [indices.count] + shape.dropFirst(), pixels: pixels.gather(indices))
        }
    }

    /// `parts` one after another (images of one shape). Pixels stay pixels when every part holds them with the same
    /// normalisation; otherwise the result holds floats.
    public static func concatenating(_ parts: [DatasetImages]) -> DatasetImages {
        precondition(!parts.isEmpty, "nothing to concatenate")
        let tail = Array(parts[0].shape.dropFirst())
        precondition(parts.allSatisfy { Array($0.shape.dropFirst()) == tail }, "concatenating images of other shapes")
        if parts.count == 1 { return parts[0] }
        let pixels = parts.compactMap { part -> Pixels? in
            if case .pixels(let pixels) = part.storage { pixels } else { nil }
        }
        let total = parts.reduce(0) { $0 + $1.count }
        guard pixels.count == parts.count, pixels.allSatisfy({ $0.table.elementsEqual(pixels[0].table, by: same) })
        else { return DatasetImages(Tensor.concatenate(parts.map(\.tensor))) }
        let imageSize = parts[0].imageSize
        var bytes: [UInt8] = []
        bytes.reserveCapacity(total * imageSize)
        for (part, held) in zip(parts, pixels) { held.append(0..<part.count, to: &bytes) }
        return DatasetImages(
            shape: [total] + tail,
            pixels: Pixels(
                bytes: bytes, offset: 0, recordStride: imageSize, imageSize: imageSize, table: pixels[0].table))
    }

    private init(shape: [Int], pixels: Pixels) {
        self.shape = shape
        storage = .pixels(pixels)
    }

    private func checkRows(_ indices: [Int]) {
        for index in indices { precondition(index >= 0 && index < count, "row \(index) out of range 0..<\(count)") }
    }

    private static func same(_ a: Float, _ b: Float) -> Bool { a.bitPattern == b.bitPattern }
}

/// uint8 pixels and the table that turns them into floats: 256 entries a channel.
private struct Pixels: Sendable {
    let bytes: [UInt8]
    let offset: Int
    let recordStride: Int
    /// Bytes in one image (channels × plane).
    let imageSize: Int
    let table: [Float]

    var channels: Int { table.count / 256 }

    /// (value / 255 − mean[c]) / std[c] for every byte value of every channel: exact, and faster than arithmetic
    /// per pixel.
    static func table(mean: [Float], std: [Float]) -> [Float] {
        (0..<mean.count).flatMap { c in (0..<256).map { value in (Float(value) / 255 - mean[c]) / std[c] } }
    }

    /// Image `n`'s floats into `destination`.
    func convert(image n: Int, into destination: UnsafeMutablePointer<Float>) {
        let plane = imageSize / channels
        bytes.withUnsafeBufferPointer { source in
            table.withUnsafeBufferPointer { lookup in
                let from = source.baseAddress! + offset + n * recordStride
                for c in 0..<channels {
                    let channelTable = lookup.baseAddress! + c * 256
                    for p in (c * plane)..<((c + 1) * plane) { destination[p] = channelTable[Int(from[p])] }
                }
            }
        }
    }

    /// The images at `indices` packed one after another.
    func gather(_ indices: [Int]) -> Pixels {
        var packed: [UInt8] = []
        packed.reserveCapacity(indices.count * imageSize)
        append(indices, to: &packed)
        return Pixels(bytes: packed, offset: 0, recordStride: imageSize, imageSize: imageSize, table: table)
    }

    /// The bytes of the images at `indices`, one after another, appended to `packed`.
    func append(_ indices: some Sequence<Int>, to packed: inout [UInt8]) {
        for index in indices {
            let start = offset + index * recordStride
            packed.append(contentsOf: bytes[start..<(start + imageSize)])
        }
    }
}
