import Foundation

/// Everything that can go wrong while finding or reading a dataset. Every message names the file (or directory)
/// and says what is wrong with it.
public enum DatasetError: Error, Equatable, Sendable {
    case fileNotFound(path: String)
    case unreadable(path: String, reason: String)
    case decompression(path: String, GzipError)
    /// The file does not start with the bytes its format requires.
    case badMagic(path: String, expected: String, found: String)
    /// The file is shorter than its header promises.
    case truncated(path: String, expectedBytes: Int, actualBytes: Int)
    /// Sizes or dimensions that do not fit together (trailing bytes, unsupported rank, partial records…).
    case sizeMismatch(path: String, detail: String)
    case labelOutOfRange(path: String, index: Int, label: Int, classCount: Int)
    /// A regression target that is NaN or infinite (the flat index into the target array).
    case nonFiniteTarget(path: String, index: Int)
    case countMismatch(imagesPath: String, images: Int, labelsPath: String, labels: Int)
    /// A NumPy header that cannot be parsed or lacks a required key.
    case invalidHeader(path: String, detail: String)
    case unsupportedDtype(path: String, dtype: String, supported: [String])
    case fortranOrder(path: String)
    case empty(path: String)
    /// Per-channel statistics that do not match the images' channel count.
    case normalizationMismatch(path: String, channels: Int, statistics: Int)
    /// A normalisation that does not read (`--normalize`, or what a checkpoint records).
    case invalidNormalization(text: String, reason: String)
    /// A known alias whose directory is missing: the Debian package that provides it.
    case notInstalled(alias: String, directory: String, package: String)
    /// Neither an alias nor an existing directory.
    case unknownDataset(spec: String, aliases: [String])
    /// A directory whose files match no supported layout.
    case unrecognizedDirectory(path: String, contents: [String])
    /// The directory's format was recognised but a file the split needs is missing.
    case missingFile(path: String, format: String)
}

extension DatasetError: CustomStringConvertible, LocalizedError {
    public var description: String {
        switch self {
        case .fileNotFound(let path):
            return "\(path): no such file"
        case .unreadable(let path, let reason):
            return "\(path): cannot read: \(reason)"
        case .decompression(let path, let error):
            return "\(path): \(error)"
        case .badMagic(let path, let expected, let found):
            return "\(path): wrong magic number: expected \(expected), found \(found)"
        case .truncated(let path, let expected, let actual):
            return "\(path): truncated: expected \(expected) bytes, found only \(actual)"
        case .sizeMismatch(let path, let detail):
            return "\(path): size mismatch: \(detail)"
        case .labelOutOfRange(let path, let index, let label, let classCount):
            return "\(path): label \(label) of sample \(index) is out of range 0..<\(classCount)"
        case .nonFiniteTarget(let path, let index):
            return "\(path): regression target \(index) is not a finite number"
        case .countMismatch(let imagesPath, let images, let labelsPath, let labels):
            return
                "image/label count mismatch: \(imagesPath) has \(images) images but \(labelsPath) has \(labels) labels"
        case .invalidHeader(let path, let detail):
            return "\(path): invalid NumPy header: \(detail)"
        case .unsupportedDtype(let path, let dtype, let supported):
            return "\(path): unsupported dtype '\(dtype)' (supported: \(supported.joined(separator: ", ")))"
        case .fortranOrder(let path):
            return "\(path): fortran_order is True; save the array in C order (numpy.ascontiguousarray)"
        case .empty(let path):
            return "\(path): contains no samples"
        case .normalizationMismatch(let path, let channels, let statistics):
            return "\(path): images have \(channels) channel(s) but the normalisation has \(statistics) mean/std values"
        case .invalidNormalization(let text, let reason):
            return "normalisation '\(text)' does not read: \(reason) "
                + "(e.g. 0.2860/0.3530, 0.4914,0.4822,0.4465/0.247,0.243,0.261, or none)"
        case .notInstalled(let alias, let directory, let package):
            return "dataset '\(alias)' is not installed: \(directory) does not exist "
                + "(install it with `apt-get install \(package)`)"
        case .unknownDataset(let spec, let aliases):
            return "'\(spec)' is neither a dataset directory nor a known dataset (\(aliases.joined(separator: ", ")))"
        case .unrecognizedDirectory(let path, let contents):
            let listing =
                contents.isEmpty ? "it is empty" : "it contains \(contents.prefix(12).joined(separator: ", "))"
            return "\(path): no IDX, CIFAR binary or NumPy dataset files found (\(listing))"
        case .missingFile(let path, let format):
            return "\(path): missing (the directory looks like a \(format) dataset)"
        }
    }

    public var errorDescription: String? { description }
}
