/// A small strict JSON reader and writer for safetensors headers (and for certificates, `CanonicalJSON`).
///
/// Unlike `JSONSerialization` it keeps object members in file order and keeps duplicate keys (so they can be
/// reported), keeps numbers as their literal text (so 64-bit offsets are read exactly), and limits nesting
/// depth so that hostile input cannot exhaust the stack.
public enum HeaderJSON: Equatable, Sendable {
    case object([Member])
    case array([HeaderJSON])
    case string(String)
    case number(String)
    case bool(Bool)
    case null

    public struct Member: Equatable, Sendable {
        public var key: String
        public var value: HeaderJSON
    }

    public struct ParseError: Error {
        public var message: String
        public var offset: Int
    }

    static let maximumDepth = 64

    /// Parses a complete JSON text; leading and trailing whitespace (safetensors pads with spaces) is allowed.
    public static func parse(_ bytes: [UInt8]) throws(ParseError) -> HeaderJSON {
        var parser = Parser(bytes: bytes)
        parser.skipWhitespace()
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        guard parser.position == bytes.count else { throw parser.error("unexpected text after the JSON value") }
        return value
    }

    /// A non-negative integer literal that fits in `Int`, or nil.
    var nonNegativeInt: Int? {
        guard case .number(let literal) = self, literal.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            return nil
        }
        return Int(literal)
    }

    /// A JSON string literal, quoted and escaped.
    static func quoted(_ string: String) -> String {
        var result = "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}

private struct Parser {
    let bytes: [UInt8]
    var position = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    func error(_ message: String) -> HeaderJSON.ParseError {
        HeaderJSON.ParseError(message: message, offset: position)
    }

    mutating func skipWhitespace() {
        while position < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[position]) { position += 1 }
    }

    mutating func expect(_ byte: UInt8, _ what: String) throws(HeaderJSON.ParseError) {
        guard position < bytes.count, bytes[position] == byte else { throw error("expected \(what)") }
        position += 1
    }

    mutating func parseValue(depth: Int) throws(HeaderJSON.ParseError) -> HeaderJSON {
        guard depth < HeaderJSON.maximumDepth else { throw error("nested deeper than \(HeaderJSON.maximumDepth)") }
        guard position < bytes.count else { throw error("unexpected end of text") }
        switch bytes[position] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth)
        case UInt8(ascii: "["): return try parseArray(depth: depth)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try parseLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try parseLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try parseLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default: throw error("unexpected character")
        }
    }

    mutating func parseObject(depth: Int) throws(HeaderJSON.ParseError) -> HeaderJSON {
        .object(
            try parseItems(closedBy: "}", "object") { parser throws(HeaderJSON.ParseError) in
                try parser.parseMember(depth: depth)
            })
    }

    mutating func parseArray(depth: Int) throws(HeaderJSON.ParseError) -> HeaderJSON {
        .array(
            try parseItems(closedBy: "]", "array") { parser throws(HeaderJSON.ParseError) in
                try parser.parseValue(depth: depth + 1)
            })
    }

    /// One `"key": value` of an object at `depth`.
    mutating func parseMember(depth: Int) throws(HeaderJSON.ParseError) -> HeaderJSON.Member {
        guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else {
            throw error("expected a string key")
        }
        let key = try parseString()
        skipWhitespace()
        try expect(UInt8(ascii: ":"), "':'")
        skipWhitespace()
        return HeaderJSON.Member(key: key, value: try parseValue(depth: depth + 1))
    }

    /// The comma-separated items of an object or array (`container`), each read by `item`, from the opening bracket
    /// (the current byte) through `close`.
    mutating func parseItems<Item>(
        closedBy close: Unicode.Scalar, _ container: String,
        item: (inout Parser) throws(HeaderJSON.ParseError) -> Item
    ) throws(HeaderJSON.ParseError) -> [Item] {
        let closing = UInt8(ascii: close)
        position += 1
        var items: [Item] = []
        skipWhitespace()
        if position < bytes.count, bytes[position] == closing {
            position += 1
            return items
        }
        while true {
            skipWhitespace()
            items.append(try item(&self))
            skipWhitespace()
            guard position < bytes.count else { throw error("unterminated \(container)") }
            if bytes[position] == closing {
                position += 1
                return items
            }
            try expect(UInt8(ascii: ","), "',' or '\(close)'")
        }
    }

    mutating func parseLiteral(_ word: String) throws(HeaderJSON.ParseError) {
        for byte in word.utf8 { try expect(byte, "'\(word)'") }
    }

    mutating func parseNumber() throws(HeaderJSON.ParseError) -> String {
        let start = position
        func isDigit(_ index: Int) -> Bool {
            index < bytes.count && bytes[index] >= UInt8(ascii: "0") && bytes[index] <= UInt8(ascii: "9")
        }
        if bytes[position] == UInt8(ascii: "-") { position += 1 }
        guard isDigit(position) else { throw error("invalid number") }
        if bytes[position] == UInt8(ascii: "0") {
            position += 1
        } else {
            while isDigit(position) { position += 1 }
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
            position += 1
            guard isDigit(position) else { throw error("invalid number") }
            while isDigit(position) { position += 1 }
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E") {
            position += 1
            if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") {
                position += 1
            }
            guard isDigit(position) else { throw error("invalid number") }
            while isDigit(position) { position += 1 }
        }
        return String(decoding: bytes[start..<position], as: UTF8.self)
    }

    /// Parses a string literal. The caller has validated the whole text as UTF-8, so raw bytes are copied.
    mutating func parseString() throws(HeaderJSON.ParseError) -> String {
        position += 1
        var utf8: [UInt8] = []
        while true {
            guard position < bytes.count else { throw error("unterminated string") }
            let byte = bytes[position]
            position += 1
            switch byte {
            case UInt8(ascii: "\""):
                return String(decoding: utf8, as: UTF8.self)
            case 0..<0x20:
                throw error("control character in string")
            case UInt8(ascii: "\\"):
                guard position < bytes.count else { throw error("unterminated string") }
                let escape = bytes[position]
                position += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(escape)
                case UInt8(ascii: "b"): utf8.append(0x08)
                case UInt8(ascii: "f"): utf8.append(0x0C)
                case UInt8(ascii: "n"): utf8.append(0x0A)
                case UInt8(ascii: "r"): utf8.append(0x0D)
                case UInt8(ascii: "t"): utf8.append(0x09)
                case UInt8(ascii: "u"): utf8.append(contentsOf: try parseUnicodeEscape())
                default: throw error("invalid escape")
                }
            default:
                utf8.append(byte)
            }
        }
    }

    /// The UTF-8 bytes of a `\uXXXX` escape (the `\u` already consumed), joining surrogate pairs.
    mutating func parseUnicodeEscape() throws(HeaderJSON.ParseError) -> [UInt8] {
        var value = try parseHex4()
        if (0xD800..<0xDC00).contains(value) {
            guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"),
                bytes[position + 1] == UInt8(ascii: "u")
            else { throw error("unpaired surrogate in \\u escape") }
            position += 2
            let low = try parseHex4()
            guard (0xDC00..<0xE000).contains(low) else { throw error("unpaired surrogate in \\u escape") }
            value = 0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00)
        }
        guard let scalar = Unicode.Scalar(value) else { throw error("unpaired surrogate in \\u escape") }
        return Array(String(Character(scalar)).utf8)
    }

    mutating func parseHex4() throws(HeaderJSON.ParseError) -> UInt32 {
        guard position + 4 <= bytes.count else { throw error("truncated \\u escape") }
        var value: UInt32 = 0
        for byte in bytes[position..<(position + 4)] {
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw error("invalid \\u escape")
            }
            value = value << 4 | UInt32(digit)
        }
        position += 4
        return value
    }
}
