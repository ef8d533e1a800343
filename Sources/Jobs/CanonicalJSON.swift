import Checkpoint

/// A JSON value written one way only, so that its bytes are a function of its content and can be signed: object
/// keys sorted by their UTF-8 bytes, no insignificant whitespace, integers in decimal, other numbers in Swift's
/// shortest round-trip form (`Double.description`, the same on every platform), strings with only the escapes
/// JSON requires (`"`, `\`, control characters as `\u00XX`).
public indirect enum CanonicalJSON: Sendable, Equatable {
    case null
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([CanonicalJSON])
    case object([String: CanonicalJSON])

    /// The canonical bytes.
    public var bytes: [UInt8] {
        var out: [UInt8] = []
        write(to: &out)
        return out
    }

    public var text: String { String(decoding: bytes, as: UTF8.self) }

    private func write(to out: inout [UInt8]) {
        switch self {
        case .null: out += Array("null".utf8)
        case .bool(let value): out += Array((value ? "true" : "false").utf8)
        case .integer(let value): out += Array(String(value).utf8)
        case .number(let value):
            precondition(value.isFinite, "JSON has no \(value)")
            // Whole numbers as integers (1.0 → 1), the rest in shortest round-trip form.
            if value == value.rounded(), abs(value) < 1e15 {
                out += Array(String(Int64(value)).utf8)
            } else {
                out += Array(value.description.utf8)
            }
        case .string(let value): Self.write(string: value, to: &out)
        case .array(let values):
            out.append(UInt8(ascii: "["))
            for (i, value) in values.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                value.write(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (i, key) in members.keys.sorted(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) })
                .enumerated()
            {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                Self.write(string: key, to: &out)
                out.append(UInt8(ascii: ":"))
                members[key]!.write(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    private static func write(string: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out += Array("\\\"".utf8)
            case UInt8(ascii: "\\"): out += Array("\\\\".utf8)
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out += Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

extension CanonicalJSON {
    /// Parses a JSON document (strictly, `HeaderJSON`: one value, nesting at most 64 deep). Numbers without a
    /// fraction or exponent that fit 64 bits are integers, the rest doubles, so that writing a parsed canonical
    /// document gives back its bytes; a key given twice is refused.
    public init(parsing bytes: [UInt8]) throws(CanonicalJSONError) {
        do {
            self = try Self(try HeaderJSON.parse(bytes))
        } catch let error as HeaderJSON.ParseError {
            throw CanonicalJSONError("\(error.message) at byte \(error.offset)")
        } catch let error as CanonicalJSONError {
            throw error
        } catch {
            throw CanonicalJSONError("\(error)")
        }
    }

    private init(_ parsed: HeaderJSON) throws {
        switch parsed {
        case .null: self = .null
        case .bool(let value): self = .bool(value)
        case .string(let value): self = .string(value)
        case .array(let values): self = .array(try values.map(Self.init))
        case .object(let members):
            var object: [String: CanonicalJSON] = [:]
            for member in members {
                guard object[member.key] == nil else { throw CanonicalJSONError("the key \"\(member.key)\" twice") }
                object[member.key] = try Self(member.value)
            }
            self = .object(object)
        case .number(let text):
            if !text.contains(where: { ".eE".contains($0) }), let integer = Int64(text) {
                self = .integer(integer)
            } else if let double = Double(text), double.isFinite {
                self = .number(double)
            } else {
                throw CanonicalJSONError("a bad number \(text)")
            }
        }
    }

    /// A member of an object (nil for anything else or a missing key).
    public subscript(key: String) -> CanonicalJSON? {
        guard case .object(let members) = self else { return nil }
        return members[key]
    }

    /// The object without `key`.
    public func removing(_ key: String) -> CanonicalJSON {
        guard case .object(var members) = self else { return self }
        members[key] = nil
        return .object(members)
    }

    /// An object's members (nil for anything else).
    public var members: [String: CanonicalJSON]? {
        guard case .object(let members) = self else { return nil }
        return members
    }

    public var stringValue: String? {
        guard case .string(let value) = self else { return nil }
        return value
    }
}

public struct CanonicalJSONError: Error, CustomStringConvertible {
    public let description: String
    init(_ what: String) { description = "not JSON: \(what)" }
}
