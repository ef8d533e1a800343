import Foundation

/// A method's hyperparameters: declared with defaults and help, overridden by `--param key=value`.
public struct MethodParameters: Sendable, Equatable {
    public struct Declaration: Sendable, Equatable {
        public let key: String
        public let defaultValue: String
        public let help: String
        /// The values it may take (checked with the value's type before any work).
        public let domain: ParameterDomain

        public init(_ key: String, _ defaultValue: String, _ help: String, _ domain: ParameterDomain = .unconstrained) {
            self.key = key
            self.defaultValue = defaultValue
            self.help = help
            self.domain = domain
        }
    }

    public let declarations: [Declaration]
    /// Every declared key with its value (the default unless overridden), as given (for reports).
    public let values: [String: String]
    /// The same values parsed once, with the type of their default.
    private let parsed: [String: Value]

    /// Resolves `overrides` against the declarations, refusing unknown keys, unparsable values and values outside
    /// their declared domain.
    public init(_ declarations: [Declaration], overrides: [String: String] = [:]) throws(MethodParameterError) {
        let known = Set(declarations.map(\.key))
        if let unknown = overrides.keys.sorted().first(where: { !known.contains($0) }) {
            throw .unknown(key: unknown, known: declarations.map(\.key))
        }
        self.declarations = declarations
        var values: [String: String] = [:]
        for declaration in declarations {
            values[declaration.key] = overrides[declaration.key] ?? declaration.defaultValue
        }
        self.values = values
        var parsed: [String: Value] = [:]
        for declaration in declarations {
            let value = values[declaration.key]!
            guard let typed = Value(value, like: declaration.defaultValue) else {
                throw .invalid(key: declaration.key, value: value, example: declaration.defaultValue)
            }
            guard declaration.domain.admits(value) else {
                throw .outOfDomain(key: declaration.key, value: value, domain: declaration.domain)
            }
            parsed[declaration.key] = typed
        }
        self.parsed = parsed
    }

    /// The most logical shards a run with these parameters may use: no more than the smallest minibatch its
    /// steps split nor the protocol's limit. A method without a batch-size parameter splits the original's
    /// batches (`recipe`; nil while it is not known yet).
    public func shardLimit(recipe: TrainingRecipe?) -> (limit: Int, reason: String) {
        let batches = declarations.filter(\.domain.isBatchSize).compactMap { declaration -> (Int, String)? in
            guard let rows = Int(string(declaration.key)), rows > 0 else { return nil }
            return (rows, declaration.key)
        }
        let smallest = batches.min { $0.0 < $1.0 } ?? recipe.map { ($0.batchSize, "the original's batch size") }
        guard let (rows, key) = smallest, rows < UnlearningLimits.shards else {
            return (UnlearningLimits.shards, "the protocol's limit")
        }
        return (rows, "the smallest minibatch it splits (\(key) \(rows))")
    }

    /// Refuses `shards` beyond `shardLimit`.
    public func checkShards(_ shards: Int, recipe: TrainingRecipe?) throws(MethodParameterError) {
        let (limit, reason) = shardLimit(recipe: recipe)
        guard (1...limit).contains(shards) else { throw .tooManyShards(shards, limit: limit, reason: reason) }
    }

    /// Parses `key=value` pairs (each may hold several, separated by commas only where a key follows).
    public static func parseOverrides(_ arguments: [String]) throws(MethodParameterError) -> [String: String] {
        var overrides: [String: String] = [:]
        for argument in arguments.flatMap(splitAssignments) {
            guard let equals = argument.firstIndex(of: "="), equals != argument.startIndex else {
                throw .malformed(argument)
            }
            let key = String(argument[..<equals]).trimmingCharacters(in: .whitespaces)
            overrides[key] = String(argument[argument.index(after: equals)...]).trimmingCharacters(in: .whitespaces)
        }
        return overrides
    }

    /// "alpha=0.5,lambda=1" → ["alpha=0.5", "lambda=1"]; a piece without "=" belongs to the value before it, so
    /// "backdoor=target:0,patch:3" stays whole.
    private static func splitAssignments(_ argument: String) -> [String] {
        var assignments: [String] = []
        for piece in argument.split(separator: ",", omittingEmptySubsequences: false) {
            if piece.contains("=") || assignments.isEmpty {
                assignments.append(String(piece))
            } else {
                assignments[assignments.count - 1] += "," + piece
            }
        }
        return assignments
    }

    public func string(_ key: String) -> String {
        guard let value = values[key] else { preconditionFailure("parameter '\(key)' is not declared") }
        return value
    }

    /// A declared number (an integer reads as one too); asking for an undeclared key or another type is a bug.
    public func float(_ key: String) -> Float {
        switch value(key) {
        case .number(let number): number
        case .integer(let integer): Float(integer)
        default: preconditionFailure("parameter '\(key)' is not a number")
        }
    }

    public func int(_ key: String) -> Int {
        guard case .integer(let integer) = value(key) else {
            preconditionFailure("parameter '\(key)' is not an integer")
        }
        return integer
    }

    public func bool(_ key: String) -> Bool {
        guard case .boolean(let flag) = value(key) else { preconditionFailure("parameter '\(key)' is not a boolean") }
        return flag
    }

    private func value(_ key: String) -> Value {
        guard let value = parsed[key] else { preconditionFailure("parameter '\(key)' is not declared") }
        return value
    }

    /// A fraction in (0, 1], or [0, 1] when `allowingZero`.
    public func fraction(_ key: String, allowingZero: Bool = false) throws(MethodParameterError) -> Float {
        let value = float(key)
        guard value <= 1 && (allowingZero ? value >= 0 : value > 0) else {
            throw .outOfRange("\(key) must be in \(allowingZero ? "[" : "(")0, 1]")
        }
        return value
    }

    /// The value, or nil where 0 (or less) switches the feature off (e.g. `clip=0`).
    public func positiveOrOff(_ key: String) -> Float? { float(key) > 0 ? float(key) : nil }

    /// A parameter's value, typed like its declared default.
    private enum Value: Sendable, Equatable {
        case integer(Int)
        case number(Float)
        case boolean(Bool)
        case text(String)

        /// `text` parsed as the type of `example` (nil when it does not parse as one).
        init?(_ text: String, like example: String) {
            if Int(example) != nil {
                guard let integer = Int(text) else { return nil }
                self = .integer(integer)
            } else if Float(example) != nil {
                guard let number = Float(text), number.isFinite else { return nil }
                self = .number(number)
            } else if Bool(example) != nil {
                guard let flag = Bool(text) else { return nil }
                self = .boolean(flag)
            } else {
                self = .text(text)
            }
        }
    }
}

public enum MethodParameterError: Error, Equatable, CustomStringConvertible {
    case unknown(key: String, known: [String])
    case invalid(key: String, value: String, example: String)
    case malformed(String)
    case outOfRange(String)
    case outOfDomain(key: String, value: String, domain: ParameterDomain)
    case tooManyShards(Int, limit: Int, reason: String)

    public var description: String {
        switch self {
        case .unknown(let key, let known):
            "unknown parameter '\(key)'; this method takes \(known.joined(separator: ", "))"
        case .invalid(let key, let value, let example):
            "parameter \(key)=\(value) is not valid (expected a value like \(example))"
        case .malformed(let text): "--param expects key=value, got '\(text)'"
        case .outOfRange(let message): message
        case .outOfDomain(let key, let value, let domain):
            "parameter \(key)=\(value) is out of range: \(key) must be \(domain)"
        case .tooManyShards(let shards, let limit, let reason):
            "--shards \(shards) is not possible here: shards must be between 1 and \(limit), \(reason)"
        }
    }
}
