/// An endpoint as people write it, checked before any socket sees it: `tcp://HOST:PORT`, `HOST:PORT` (taken as
/// TCP), `ipc://PATH` or `inproc://NAME`. `description` is the form libzmq takes.
///
/// HOST is a name, an IPv4 address, an IPv6 address in brackets, or `*` (every interface, for binding); PORT is
/// 1–65535, or `*` for a port the system picks (binding only).
public struct Endpoint: Sendable, Hashable, CustomStringConvertible {
    public enum Transport: String, Sendable, CaseIterable {
        case tcp, ipc, inproc
    }

    public let transport: Transport
    /// What follows `transport://`.
    public let address: String

    /// Parses `text`; throws `EndpointError` saying what is wrong and which forms are expected.
    public init(parsing text: String) throws(EndpointError) {
        guard !text.isEmpty else { throw .empty }
        guard let separator = text.range(of: "://") else {
            try Self.checkHostAndPort(text, in: text)
            self.init(.tcp, address: text)
            return
        }
        let scheme = String(text[..<separator.lowerBound])
        let address = String(text[separator.upperBound...])
        guard let transport = Transport(rawValue: scheme) else { throw .unsupportedScheme(text, scheme: scheme) }
        switch transport {
        case .tcp: try Self.checkHostAndPort(address, in: text)
        case .ipc, .inproc: guard !address.isEmpty else { throw .missingAddress(text) }
        }
        self.init(transport, address: address)
    }

    private init(_ transport: Transport, address: String) {
        self.transport = transport
        self.address = address
    }

    public var description: String { "\(transport)://\(address)" }

    /// Whether the endpoint stays on this machine (ipc, inproc, or TCP on a loopback address).
    public var isLocal: Bool {
        switch transport {
        case .ipc, .inproc: true
        case .tcp: ["127.", "localhost:", "[::1]:"].contains { address.hasPrefix($0) }
        }
    }

    private static func checkHostAndPort(_ address: String, in text: String) throws(EndpointError) {
        guard let colon = address.lastIndex(of: ":") else { throw .missingPort(text) }
        let host = address[..<colon]
        let port = address[address.index(after: colon)...]
        guard !host.isEmpty else { throw .missingHost(text) }
        // A colon left in the host is an IPv6 address without its brackets (or a stray port).
        guard !host.contains(":") || (host.hasPrefix("[") && host.hasSuffix("]")) else { throw .badHost(text) }
        guard !host.contains("/") else { throw .badHost(text) }
        guard port == "*" || (port.allSatisfy(\.isASCII) && Int(port).map { (1...65535).contains($0) } == true)
        else { throw port.isEmpty ? .missingPort(text) : .badPort(text, port: String(port)) }
    }
}

/// Why text is not an endpoint. Its description names the text and the forms that are accepted.
public enum EndpointError: Error, Sendable, Equatable, CustomStringConvertible {
    case empty
    /// `tcp://HOST` or `HOST` without `:PORT`.
    case missingPort(String)
    case badPort(String, port: String)
    case missingHost(String)
    /// A host with a colon (an IPv6 address needs brackets) or a slash.
    case badHost(String)
    /// A scheme other than tcp, ipc and inproc (e.g. `http`).
    case unsupportedScheme(String, scheme: String)
    /// `ipc://` or `inproc://` with nothing after it.
    case missingAddress(String)

    public static let expectedForms = "tcp://HOST:PORT, HOST:PORT, ipc://PATH or inproc://NAME"

    public var description: String {
        let problem =
            switch self {
            case .empty: "the endpoint is empty"
            case .missingPort(let text): "'\(text)' has no port"
            case .badPort(let text, let port): "'\(text)' has '\(port)' as its port, not a number from 1 to 65535"
            case .missingHost(let text): "'\(text)' has no host"
            case .badHost(let text): "'\(text)' has a malformed host (write an IPv6 address in brackets: [::1])"
            case .unsupportedScheme(let text, let scheme): "'\(text)': '\(scheme)://' is not a transport Lethe uses"
            case .missingAddress(let text): "'\(text)' names no path or name"
            }
        return "\(problem); expected \(Self.expectedForms)"
    }
}
