import Tensor

/// IDX files (MNIST, FashionMNIST): a big-endian magic 00 00 <type> <rank>, `rank` big-endian uint32
/// dimensions, then the data. Images are uint8 [N, H, W] (magic 0x00000803), labels uint8 [N] (0x00000801).
/// Files may be gzip-compressed.
public enum IDXReader {
    public static let imagesMagic: UInt32 = 0x0000_0803
    public static let labelsMagic: UInt32 = 0x0000_0801

    /// Reads an images/labels file pair into a dataset of [N, 1, H, W] images normalised as (x/255 − mean) / std.
    public static func read(
        images imagesPath: String, labels labelsPath: String, name: String, classCount: Int = 10,
        normalization: Normalization
    ) throws(DatasetError) -> Dataset {
        try .pairing(
            images: readImages(imagesPath, normalization: normalization), imagesPath: imagesPath,
            labels: readLabels(labelsPath, classCount: classCount), labelsPath: labelsPath, name: name,
            classCount: classCount)
    }

    /// Images [N, 1, H, W], normalised (held as the file's pixels).
    public static func readImages(_ path: String, normalization: Normalization) throws(DatasetError)
        -> DatasetImages
    {
        let bytes = try ByteFile.read(path)
        let dims = try header(bytes, path: path, magic: imagesMagic, what: "uint8 images, 3 dimensions")
        let (count, height, width) = (dims[0], dims[1], dims[2])
        let statistics = try normalization.perChannel(1, path: path)
        return DatasetImages(
            pixels: bytes, offset: 16, recordStride: height * width, count: count, channels: 1, height: height,
            width: width, mean: statistics.mean, std: statistics.std)
    }

    /// Labels [N], each checked against 0..<classCount.
    public static func readLabels(_ path: String, classCount: Int) throws(DatasetError) -> [Int] {
        let bytes = try ByteFile.read(path)
        let count = try header(bytes, path: path, magic: labelsMagic, what: "uint8 labels, 1 dimension")[0]
        var labels = [Int](repeating: 0, count: count)
        var bad: (index: Int, label: Int)? = nil
        bytes.withUnsafeBufferPointer { source in
            labels.withUnsafeMutableBufferPointer { destination in
                for i in 0..<count {
                    let label = Int(source[8 + i])
                    destination[i] = label
                    if label >= classCount && bad == nil { bad = (i, label) }
                }
            }
        }
        if let bad { throw .labelOutOfRange(path: path, index: bad.index, label: bad.label, classCount: classCount) }
        return labels
    }

    /// Checks the magic and that the file holds exactly the data its dimensions describe; returns the dimensions.
    static func header(_ bytes: [UInt8], path: String, magic: UInt32, what: String) throws(DatasetError) -> [Int] {
        let expectedMagic = "0x\(hex(magic)) (\(what))"
        guard bytes.count >= 4 else { throw .truncated(path: path, expectedBytes: 4, actualBytes: bytes.count) }
        let found = bigEndian(bytes, at: 0)
        guard found == magic else {
            throw .badMagic(path: path, expected: expectedMagic, found: "0x\(hex(found))\(describe(found))")
        }
        let rank = Int(magic & 0xff)
        let headerSize = 4 + 4 * rank
        guard bytes.count >= headerSize else {
            throw .truncated(path: path, expectedBytes: headerSize, actualBytes: bytes.count)
        }
        let dims = (0..<rank).map { Int(bigEndian(bytes, at: 4 + 4 * $0)) }
        var elements = 1
        for dim in dims {
            let (product, overflow) = elements.multipliedReportingOverflow(by: dim)
            guard !overflow && product < 1 << 48 else {
                throw .sizeMismatch(path: path, detail: "dimensions \(dims) describe more data than any file can hold")
            }
            elements = product
        }
        let size = headerSize + elements
        if bytes.count < size { throw .truncated(path: path, expectedBytes: size, actualBytes: bytes.count) }
        if bytes.count > size {
            let extra = bytes.count - size
            let detail = "dimensions \(dims) need \(size) bytes but the file has \(bytes.count) (\(extra) extra)"
            throw .sizeMismatch(path: path, detail: detail)
        }
        return dims
    }

    private static func bigEndian(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        bytes[offset..<(offset + 4)].reduce(0) { $0 << 8 | UInt32($1) }
    }

    private static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, 8 - digits.count)) + digits
    }

    /// Names a wrong but recognisable IDX magic, e.g. a labels file passed as images.
    private static func describe(_ magic: UInt32) -> String {
        if magic == labelsMagic { return " (an IDX labels file)" }
        if magic == imagesMagic { return " (an IDX images file)" }
        if magic >> 16 == 0x1f8b { return " (gzip data that did not decompress)" }
        if magic >> 16 == 0 {
            return " (IDX type 0x\(String(magic >> 8 & 0xff, radix: 16)), \(magic & 0xff) dimensions)"
        }
        return ""
    }
}
