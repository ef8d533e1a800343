import Tensor

/// The element types Lethe reads from .npy files (little-endian; byte order is irrelevant for one-byte types).
public enum NPYDType: String, Sendable, CaseIterable {
    case uint8 = "u1"
    case int32 = "i4"
    case int64 = "i8"
    case float32 = "f4"
    case float64 = "f8"

    public var size: Int { Int(rawValue.dropFirst())! }

    static let allNames = allCases.map { "\($0) ('<\($0.rawValue)')" }

    /// Parses a `descr` such as '<f4', '|u1' or 'i8'; nil for anything else (big-endian included).
    public init?(descr: String) {
        var code = Substring(descr)
        if let order = code.first, "<>|=".contains(order) {
            code = code.dropFirst()
            guard let type = NPYDType(rawValue: String(code)), order != ">" || type.size == 1 else { return nil }
            self = type
        } else {
            guard let type = NPYDType(rawValue: String(code)) else { return nil }
            self = type
        }
    }
}

/// NumPy `.npy` image and label arrays (C order, little-endian).
///
/// Images: uint8 (scaled by 1/255) or float32/float64 (used as stored), shape [N, H, W] (one channel),
/// [N, C, H, W], or [N, D] for a table of D features per row (read as [N, 1, 1, D]); then normalised. Labels:
/// uint8, int32 or int64 class indices, shape [N] (or [N, 1]); or float32/float64 regression targets, shape [N]
/// or [N, K] — a regression dataset whose samples all share class 0.
public enum NPYReader {
    public static let imageTypes: [NPYDType] = [.uint8, .float32, .float64]
    public static let labelTypes: [NPYDType] = [.uint8, .int32, .int64]
    public static let targetTypes: [NPYDType] = [.float32, .float64]
    /// Class counts inferred from labels stay below this (a larger label is almost certainly garbage).
    public static let maxInferredClasses = 1 << 16

    /// Reads an images/labels pair. `classCount` defaults to the largest label + 1.
    public static func read(
        images imagesPath: String, labels labelsPath: String, name: String, classCount: Int? = nil,
        normalization: Normalization = .identity
    ) throws(DatasetError) -> Dataset {
        if try hasFloatLabels(labelsPath) {
            let images = try readImages(imagesPath, normalization: normalization)
            let targets = try readTargets(labelsPath)
            guard images.shape[0] == targets.shape[0] else {
                throw .countMismatch(
                    imagesPath: imagesPath, images: images.shape[0], labelsPath: labelsPath, labels: targets.shape[0])
            }
            guard images.shape[0] > 0 else { throw .empty(path: imagesPath) }
            return Dataset(
                name: name, images: images, labels: [Int](repeating: 0, count: images.shape[0]), classCount: 1,
                targets: targets)
        }
        return try .pairing(
            images: readImages(imagesPath, normalization: normalization), imagesPath: imagesPath,
            labels: readLabels(labelsPath, classCount: classCount), labelsPath: labelsPath, name: name,
            classCount: classCount)
    }

    /// Images [N, C, H, W], normalised.
    public static func readImages(_ path: String, normalization: Normalization) throws(DatasetError)
        -> DatasetImages
    {
        let (bytes, header, dtype) = try open(path, allowed: imageTypes)
        let dims: [Int]
        switch header.shape.count {
        case 2: dims = [header.shape[0], 1, 1, header.shape[1]]
        case 3: dims = [header.shape[0], 1, header.shape[1], header.shape[2]]
        case 4: dims = header.shape
        default:
            throw .sizeMismatch(
                path: path, detail: "image array has shape \(header.shape); expected [N, D], [N, H, W] or [N, C, H, W]")
        }
        let statistics = try normalization.perChannel(dims[1], path: path)
        if dtype == .uint8 {
            return DatasetImages(
                pixels: bytes, offset: header.dataOffset, recordStride: dims[1] * dims[2] * dims[3], count: dims[0],
                channels: dims[1], height: dims[2], width: dims[3], mean: statistics.mean, std: statistics.std)
        }
        return DatasetImages(
            bytes.withUnsafeBytes { raw in
                PixelConversion.floats(
                    raw.baseAddress! + header.dataOffset, count: dims[0], doublePrecision: dtype == .float64,
                    channels: dims[1], height: dims[2], width: dims[3], mean: statistics.mean, std: statistics.std)
            })
    }

    /// Labels [N]: non-negative, below `classCount` when given, otherwise below `maxInferredClasses`.
    public static func readLabels(_ path: String, classCount: Int? = nil) throws(DatasetError) -> [Int] {
        let (bytes, header, dtype) = try open(path, allowed: labelTypes)
        guard header.shape.count == 1 || (header.shape.count == 2 && header.shape[1] == 1) else {
            throw .sizeMismatch(path: path, detail: "label array has shape \(header.shape); expected [N]")
        }
        let count = header.shape[0]
        let limit = classCount ?? maxInferredClasses
        var labels = [Int](repeating: 0, count: count)
        bytes.withUnsafeBytes { raw in
            let source = UnsafeRawBufferPointer(rebasing: raw[header.dataOffset...])
            for i in 0..<count {
                switch dtype {
                case .uint8: labels[i] = Int(source[i])
                case .int32:
                    labels[i] = Int(Int32(littleEndian: source.loadUnaligned(fromByteOffset: i * 4, as: Int32.self)))
                default:
                    labels[i] = Int(Int64(littleEndian: source.loadUnaligned(fromByteOffset: i * 8, as: Int64.self)))
                }
            }
        }
        if let index = labels.firstIndex(where: { $0 < 0 || $0 >= limit }) {
            throw .labelOutOfRange(path: path, index: index, label: labels[index], classCount: limit)
        }
        return labels
    }

    /// Whether a labels file holds floats (regression targets) rather than class indices.
    public static func hasFloatLabels(_ path: String) throws(DatasetError) -> Bool {
        let bytes = try ByteFile.read(path)
        let header = try NPYHeader.parse(bytes, path: path)
        return NPYDType(descr: header.descr).map(targetTypes.contains) ?? false
    }

    /// Regression targets [N, K] (from [N] or [N, K] float32/float64), refusing a value that is not finite.
    public static func readTargets(_ path: String) throws(DatasetError) -> Tensor {
        let (bytes, header, dtype) = try open(path, allowed: targetTypes)
        guard header.shape.count == 1 || header.shape.count == 2 else {
            throw .sizeMismatch(path: path, detail: "target array has shape \(header.shape); expected [N] or [N, K]")
        }
        let shape = [header.shape[0], header.shape.count == 2 ? header.shape[1] : 1]
        let count = shape[0] * shape[1]
        var values = [Float](repeating: 0, count: count)
        bytes.withUnsafeBytes { raw in
            let source = UnsafeRawBufferPointer(rebasing: raw[header.dataOffset...])
            for i in 0..<count {
                values[i] =
                    dtype == .float32
                    ? Float(
                        bitPattern: UInt32(littleEndian: source.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)))
                    : Float(
                        Double(
                            bitPattern: UInt64(
                                littleEndian: source.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self))))
            }
        }
        if let index = values.firstIndex(where: { !$0.isFinite }) {
            throw .nonFiniteTarget(path: path, index: index)
        }
        return Tensor(shape: shape, scalars: values)
    }

    /// Reads the file, parses and validates its header, and checks the data size matches the shape exactly.
    private static func open(
        _ path: String, allowed: [NPYDType]
    ) throws(DatasetError) -> (bytes: [UInt8], header: NPYHeader, dtype: NPYDType) {
        let bytes = try ByteFile.read(path)
        let header = try NPYHeader.parse(bytes, path: path)
        guard let dtype = NPYDType(descr: header.descr), allowed.contains(dtype) else {
            let supported = allowed.map { "\($0) ('<\($0.rawValue)')" }
            throw .unsupportedDtype(path: path, dtype: header.descr, supported: supported)
        }
        if header.fortranOrder { throw .fortranOrder(path: path) }
        var elements = 1
        for dim in header.shape {
            let (product, overflow) = elements.multipliedReportingOverflow(by: dim)
            guard !overflow && product < 1 << 44 else {
                throw .sizeMismatch(
                    path: path, detail: "shape \(header.shape) describes more data than any file can hold")
            }
            elements = product
        }
        let size = header.dataOffset + elements * dtype.size
        if bytes.count < size { throw .truncated(path: path, expectedBytes: size, actualBytes: bytes.count) }
        if bytes.count > size {
            throw .sizeMismatch(
                path: path,
                detail: "shape \(header.shape) of \(dtype) needs \(size) bytes but the file has \(bytes.count)")
        }
        return (bytes, header, dtype)
    }
}
