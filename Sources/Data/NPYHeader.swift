/// The header of a NumPy `.npy` file (format versions 1.0, 2.0 and 3.0): magic "\x93NUMPY", version bytes, a
/// little-endian header length (uint16 in 1.0, uint32 later), then a Python dict literal such as
/// `{'descr': '<f4', 'fortran_order': False, 'shape': (60000, 28, 28), }`.
public struct NPYHeader: Sendable, Equatable {
    public var majorVersion: Int
    public var descr: String
    public var fortranOrder: Bool
    public var shape: [Int]
    /// Byte offset of the array data.
    public var dataOffset: Int

    public static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)

    public static func parse(_ bytes: [UInt8], path: String) throws(DatasetError) -> NPYHeader {
        guard bytes.count >= 10 else { throw .truncated(path: path, expectedBytes: 10, actualBytes: bytes.count) }
        guard Array(bytes[0..<6]) == magic else {
            let found = bytes[0..<6].map { byte in
                (32..<127).contains(byte) ? String(UnicodeScalar(byte)) : "\\x" + String(byte, radix: 16)
            }
            throw .badMagic(path: path, expected: "\"\\x93NUMPY\" (a NumPy .npy file)", found: "\"\(found.joined())\"")
        }
        let major = Int(bytes[6])
        let length: Int
        let start: Int
        switch major {
        case 1:
            (length, start) = (Int(bytes[8]) | Int(bytes[9]) << 8, 10)
        case 2, 3:
            guard bytes.count >= 12 else { throw .truncated(path: path, expectedBytes: 12, actualBytes: bytes.count) }
            (length, start) = ((0..<4).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) }, 12)
        default:
            throw .invalidHeader(
                path: path, detail: "unsupported format version \(major).\(bytes[7]) (expected 1.0, 2.0 or 3.0)")
        }
        guard bytes.count >= start + length else {
            throw .truncated(path: path, expectedBytes: start + length, actualBytes: bytes.count)
        }
        var parser = LiteralParser(bytes: bytes[start..<(start + length)])
        let value: LiteralParser.Value
        do {
            value = try parser.parseHeader()
        } catch {
            throw .invalidHeader(path: path, detail: error.message)
        }
        guard case .dict(let entries) = value else {
            throw .invalidHeader(path: path, detail: "the header is not a dict")
        }
        func entry(_ key: String) throws(DatasetError) -> LiteralParser.Value {
            guard let value = entries.first(where: { $0.key == key })?.value else {
                throw .invalidHeader(path: path, detail: "missing key '\(key)'")
            }
            return value
        }
        let descr: String
        switch try entry("descr") {
        case .string(let text): descr = text
        case let other: throw .unsupportedDtype(path: path, dtype: "\(other)", supported: NPYDType.allNames)
        }
        guard case .bool(let fortranOrder) = try entry("fortran_order") else {
            throw .invalidHeader(path: path, detail: "'fortran_order' must be True or False")
        }
        guard case .tuple(let items) = try entry("shape") else {
            throw .invalidHeader(path: path, detail: "'shape' must be a tuple of integers")
        }
        var shape: [Int] = []
        for item in items {
            guard case .int(let dim) = item, dim >= 0 else {
                throw .invalidHeader(path: path, detail: "'shape' must be a tuple of non-negative integers")
            }
            shape.append(dim)
        }
        return NPYHeader(
            majorVersion: major, descr: descr, fortranOrder: fortranOrder, shape: shape, dataOffset: start + length)
    }
}

/// Just enough of Python's literal syntax for .npy headers: dicts, tuples/lists, strings, ints, booleans, None.
struct LiteralParser {
    indirect enum Value: Equatable, CustomStringConvertible {
        case dict([(key: String, value: Value)])
        case tuple([Value])
        case string(String)
        case int(Int)
        case bool(Bool)
        case none

        static func == (lhs: Value, rhs: Value) -> Bool { lhs.description == rhs.description }

        var description: String {
            switch self {
            case .dict(let entries): "{" + entries.map { "'\($0.key)': \($0.value)" }.joined(separator: ", ") + "}"
            case .tuple(let items): "(" + items.map(\.description).joined(separator: ", ") + ")"
            case .string(let text): "'\(text)'"
            case .int(let value): "\(value)"
            case .bool(let value): value ? "True" : "False"
            case .none: "None"
            }
        }
    }

    struct Failure: Error {
        let message: String
    }

    let bytes: ArraySlice<UInt8>
    var position: Int

    init(bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        position = bytes.startIndex
    }

    /// One value followed only by whitespace (the header's padding and final newline).
    mutating func parseHeader() throws(Failure) -> Value {
        let value = try parseValue()
        skipSpace()
        guard position == bytes.endIndex else { throw fail("unexpected text after the header dict") }
        return value
    }

    private mutating func parseValue() throws(Failure) -> Value {
        skipSpace()
        guard let byte = peek() else { throw fail("header ends early") }
        switch byte {
        case UInt8(ascii: "{"): return try parseDict()
        case UInt8(ascii: "("): return .tuple(try parseSequence(closing: UInt8(ascii: ")")))
        case UInt8(ascii: "["): return .tuple(try parseSequence(closing: UInt8(ascii: "]")))
        case UInt8(ascii: "'"), UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .int(try parseInt())
        default:
            for (word, value) in [("True", Value.bool(true)), ("False", .bool(false)), ("None", .none)]
            where bytes[position...].starts(with: word.utf8) {
                position += word.utf8.count
                return value
            }
            throw fail("unexpected character '\(String(UnicodeScalar(byte)))'")
        }
    }

    private mutating func parseDict() throws(Failure) -> Value {
        position += 1
        var entries: [(key: String, value: Value)] = []
        while true {
            skipSpace()
            if peek() == UInt8(ascii: "}") { break }
            guard case .string(let key) = try parseValue() else { throw fail("dict keys must be strings") }
            skipSpace()
            guard peek() == UInt8(ascii: ":") else { throw fail("expected ':' after '\(key)'") }
            position += 1
            entries.append((key, try parseValue()))
            skipSpace()
            if peek() == UInt8(ascii: ",") {
                position += 1
            } else if peek() != UInt8(ascii: "}") {
                throw fail("expected ',' or '}' in the dict")
            }
        }
        position += 1
        return .dict(entries)
    }

    private mutating func parseSequence(closing: UInt8) throws(Failure) -> [Value] {
        position += 1
        var items: [Value] = []
        while true {
            skipSpace()
            if peek() == closing { break }
            items.append(try parseValue())
            skipSpace()
            if peek() == UInt8(ascii: ",") {
                position += 1
            } else if peek() != closing {
                throw fail("expected ',' or '\(String(UnicodeScalar(closing)))'")
            }
        }
        position += 1
        return items
    }

    private mutating func parseString() throws(Failure) -> String {
        let quote = bytes[position]
        position += 1
        let start = position
        while let byte = peek(), byte != quote { position += byte == UInt8(ascii: "\\") ? 2 : 1 }
        guard position < bytes.endIndex else { throw fail("unterminated string") }
        let text = String(decoding: bytes[start..<position], as: UTF8.self)
        position += 1
        return text
    }

    private mutating func parseInt() throws(Failure) -> Int {
        let start = position
        if peek() == UInt8(ascii: "-") { position += 1 }
        while let byte = peek(), (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) { position += 1 }
        if peek() == UInt8(ascii: "L") { position += 1 }  // Python 2 long suffix
        let digits = String(decoding: bytes[start..<position], as: UTF8.self).filter { $0 != "L" }
        guard let value = Int(digits) else { throw fail("invalid integer '\(digits)'") }
        return value
    }

    private func peek() -> UInt8? {
        position < bytes.endIndex ? bytes[position] : nil
    }

    private mutating func skipSpace() {
        while let byte = peek(), byte == 0x20 || byte == 0x0a || byte == 0x09 || byte == 0x0d { position += 1 }
    }

    private func fail(_ message: String) -> Failure {
        Failure(message: "\(message) at byte \(position - bytes.startIndex) of the header")
    }
}
