/// The JSON header of a safetensors file: what each tensor is and where its bytes lie in the data buffer.
struct SafetensorsHeader {
    /// One tensor's description; `begin..<end` are byte offsets relative to the start of the data buffer.
    struct TensorInfo: Equatable {
        var name: String
        var dtype: SafetensorsDType
        var shape: [Int]
        var begin: Int
        var end: Int
    }

    static let metadataKey = "__metadata__"
    /// Headers longer than this are treated as corrupt (the reference implementation uses the same limit).
    static let maximumLength = 100_000_000

    var tensors: [TensorInfo]
    var metadata: [String: String]

    /// Parses and validates a header against a data buffer of `bufferSize` bytes. The tensors come back ordered
    /// by data offset, then name.
    static func parse(_ bytes: [UInt8], bufferSize: Int, file: String) throws(SafetensorsError) -> SafetensorsHeader {
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw .invalidHeaderJSON(file: file, reason: "header is not valid UTF-8")
        }
        let json: HeaderJSON
        do {
            json = try HeaderJSON.parse(bytes)
        } catch {
            throw .invalidHeaderJSON(file: file, reason: "\(error.message) at header byte \(error.offset)")
        }
        guard case .object(let members) = json else { throw .headerNotObject(file: file) }

        var seen = Set<String>()
        var metadata: [String: String] = [:]
        var tensors: [TensorInfo] = []
        for member in members {
            guard seen.insert(member.key).inserted else {
                if member.key == metadataKey { throw .invalidMetadata(file: file, reason: "appears more than once") }
                throw .duplicateName(file: file, tensor: member.key)
            }
            if member.key == metadataKey {
                metadata = try parseMetadata(member.value, file: file)
            } else {
                tensors.append(try parseTensor(member, bufferSize: bufferSize, file: file))
            }
        }
        tensors.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        try checkOverlaps(tensors, file: file)
        return SafetensorsHeader(tensors: tensors, metadata: metadata)
    }

    private static func parseMetadata(_ value: HeaderJSON, file: String) throws(SafetensorsError) -> [String: String] {
        if value == .null { return [:] }
        guard case .object(let members) = value else {
            throw .invalidMetadata(file: file, reason: "not a JSON object")
        }
        var metadata: [String: String] = [:]
        for member in members {
            guard case .string(let string) = member.value else {
                throw .invalidMetadata(file: file, reason: "value of '\(member.key)' is not a string")
            }
            guard metadata.updateValue(string, forKey: member.key) == nil else {
                throw .invalidMetadata(file: file, reason: "key '\(member.key)' appears more than once")
            }
        }
        return metadata
    }

    private static func parseTensor(
        _ member: HeaderJSON.Member, bufferSize: Int, file: String
    ) throws(SafetensorsError) -> TensorInfo {
        let name = member.key
        guard case .object(let fields) = member.value else { throw .entryNotObject(file: file, tensor: name) }
        func field(_ key: String) throws(SafetensorsError) -> HeaderJSON {
            guard let value = fields.first(where: { $0.key == key })?.value else {
                throw .missingField(file: file, tensor: name, field: key)
            }
            return value
        }
        func invalid(_ key: String, _ reason: String) -> SafetensorsError {
            .invalidField(file: file, tensor: name, field: key, reason: reason)
        }

        guard case .string(let dtypeName) = try field("dtype") else { throw invalid("dtype", "not a string") }
        guard let dtype = SafetensorsDType(rawValue: dtypeName) else {
            throw .unknownDType(file: file, tensor: name, dtype: dtypeName)
        }

        guard case .array(let dimensions) = try field("shape") else { throw invalid("shape", "not an array") }
        var shape: [Int] = []
        var count = 1
        for dimension in dimensions {
            guard let size = dimension.nonNegativeInt else {
                throw invalid("shape", "dimensions must be non-negative integers")
            }
            let (product, overflow) = count.multipliedReportingOverflow(by: size)
            guard !overflow else { throw invalid("shape", "element count overflows") }
            shape.append(size)
            count = product
        }
        let (expectedBytes, overflow) = count.multipliedReportingOverflow(by: dtype.byteCount)
        guard !overflow else { throw invalid("shape", "byte size overflows") }

        guard case .array(let offsets) = try field("data_offsets"), offsets.count == 2,
            let begin = offsets[0].nonNegativeInt, let end = offsets[1].nonNegativeInt
        else { throw invalid("data_offsets", "must be two non-negative integers [begin, end]") }
        guard begin <= end else { throw invalid("data_offsets", "begin \(begin) is after end \(end)") }
        guard end - begin == expectedBytes else {
            throw .sizeMismatch(
                file: file, tensor: name, dtype: dtype, shape: shape, expectedBytes: expectedBytes,
                actualBytes: end - begin)
        }
        guard end <= bufferSize else {
            throw .offsetsOutOfBounds(file: file, tensor: name, begin: begin, end: end, bufferSize: bufferSize)
        }
        return TensorInfo(name: name, dtype: dtype, shape: shape, begin: begin, end: end)
    }

    /// Rejects tensors whose byte ranges intersect; `tensors` is sorted by begin offset. Empty ranges never overlap.
    private static func checkOverlaps(_ tensors: [TensorInfo], file: String) throws(SafetensorsError) {
        var furthest: TensorInfo? = nil
        for tensor in tensors where tensor.begin < tensor.end {
            if let previous = furthest, tensor.begin < previous.end {
                throw .overlappingTensors(file: file, tensor: tensor.name, other: previous.name)
            }
            if tensor.end > furthest?.end ?? 0 { furthest = tensor }
        }
    }

    /// The header text padded with spaces to a multiple of 8 bytes, so the data buffer stays 8-byte aligned.
    /// Metadata keys are sorted, so equal contents always give identical bytes.
    func encoded() -> [UInt8] {
        var parts: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.sorted { $0.key < $1.key }
                .map { HeaderJSON.quoted($0.key) + ":" + HeaderJSON.quoted($0.value) }
            parts.append(HeaderJSON.quoted(Self.metadataKey) + ":{" + pairs.joined(separator: ",") + "}")
        }
        for tensor in tensors {
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            parts.append(
                HeaderJSON.quoted(tensor.name) + ":{\"dtype\":\"\(tensor.dtype.rawValue)\",\"shape\":[\(shape)],"
                    + "\"data_offsets\":[\(tensor.begin),\(tensor.end)]}")
        }
        var bytes = Array(("{" + parts.joined(separator: ",") + "}").utf8)
        bytes.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - bytes.count % 8) % 8))
        return bytes
    }
}
