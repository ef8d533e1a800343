/// Why a safetensors file could not be read or written. `file` is the path (or the source label given for
/// in-memory data); `tensor` names the offending entry.
public enum SafetensorsError: Error, CustomStringConvertible, Sendable {
    // Input/output.
    case unreadable(file: String, reason: String)
    case unwritable(file: String, reason: String)

    // Framing.
    case fileTooShort(file: String, byteCount: Int)
    case headerTooLarge(file: String, headerLength: UInt64, limit: Int)
    case headerBeyondEndOfFile(file: String, headerLength: UInt64, fileSize: Int)
    /// A PyTorch `torch.save` file (a zip archive, or a pickle from before PyTorch 1.6), not safetensors.
    case pytorchPickle(file: String, format: String)

    // Header structure.
    case invalidHeaderJSON(file: String, reason: String)
    case headerNotObject(file: String)
    case invalidMetadata(file: String, reason: String)
    case duplicateName(file: String, tensor: String)
    case entryNotObject(file: String, tensor: String)
    case missingField(file: String, tensor: String, field: String)
    case invalidField(file: String, tensor: String, field: String, reason: String)
    case unknownDType(file: String, tensor: String, dtype: String)

    // Data layout.
    case sizeMismatch(
        file: String, tensor: String, dtype: SafetensorsDType, shape: [Int], expectedBytes: Int, actualBytes: Int)
    case offsetsOutOfBounds(file: String, tensor: String, begin: Int, end: Int, bufferSize: Int)
    case overlappingTensors(file: String, tensor: String, other: String)

    // Writing.
    case reservedName(file: String, tensor: String)
    case nonIntegralValue(file: String, tensor: String, dtype: SafetensorsDType, index: Int, value: Float)
    case valueOutOfRange(file: String, tensor: String, dtype: SafetensorsDType, index: Int, value: Float)

    public var description: String {
        switch self {
        case .unreadable(let file, let reason):
            "\(file): cannot read: \(reason)"
        case .unwritable(let file, let reason):
            "\(file): cannot write: \(reason)"
        case .fileTooShort(let file, let byteCount):
            "\(file): not a safetensors file: \(byteCount) bytes, shorter than the 8-byte header length"
        case .headerTooLarge(let file, let headerLength, let limit):
            "\(file): header length \(headerLength) exceeds the limit of \(limit) bytes (corrupt file?)"
        case .headerBeyondEndOfFile(let file, let headerLength, let fileSize):
            "\(file): header length \(headerLength) runs past the end of the \(fileSize)-byte file (truncated?)"
        case .pytorchPickle(let file, let format):
            "\(file): this is a torch.save file (\(format)), not safetensors: export with "
                + "safetensors.torch.save_file(model.state_dict(), path)"
        case .invalidHeaderJSON(let file, let reason):
            "\(file): header is not valid JSON: \(reason)"
        case .headerNotObject(let file):
            "\(file): header is not a JSON object"
        case .invalidMetadata(let file, let reason):
            "\(file): invalid __metadata__: \(reason)"
        case .duplicateName(let file, let tensor):
            "\(file): tensor '\(tensor)' appears more than once"
        case .entryNotObject(let file, let tensor):
            "\(file): tensor '\(tensor)': entry is not a JSON object"
        case .missingField(let file, let tensor, let field):
            "\(file): tensor '\(tensor)': missing field '\(field)'"
        case .invalidField(let file, let tensor, let field, let reason):
            "\(file): tensor '\(tensor)': invalid '\(field)': \(reason)"
        case .unknownDType(let file, let tensor, let dtype):
            "\(file): tensor '\(tensor)': unknown dtype '\(dtype)' (supported: "
                + SafetensorsDType.allCases.map(\.rawValue).joined(separator: ", ") + ")"
        case .sizeMismatch(let file, let tensor, let dtype, let shape, let expectedBytes, let actualBytes):
            "\(file): tensor '\(tensor)': data_offsets span \(actualBytes) bytes but \(dtype) \(shape) needs "
                + "\(expectedBytes)"
        case .offsetsOutOfBounds(let file, let tensor, let begin, let end, let bufferSize):
            "\(file): tensor '\(tensor)': data_offsets [\(begin), \(end)] lie outside the \(bufferSize)-byte "
                + "data buffer (truncated?)"
        case .overlappingTensors(let file, let tensor, let other):
            "\(file): tensor '\(tensor)': data overlaps tensor '\(other)'"
        case .reservedName(let file, let tensor):
            "\(file): tensor name '\(tensor)' is reserved for metadata"
        case .nonIntegralValue(let file, let tensor, let dtype, let index, let value):
            "\(file): tensor '\(tensor)': element \(index) is \(value), not an integer; cannot store it as \(dtype)"
        case .valueOutOfRange(let file, let tensor, let dtype, let index, let value):
            "\(file): tensor '\(tensor)': element \(index) is \(value), outside the range of \(dtype)"
        }
    }
}
