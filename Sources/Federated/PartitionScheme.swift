/// How a training set is divided among federated clients.
public enum PartitionScheme: Sendable, Equatable {
    /// Every client gets a uniformly random, nearly equal share.
    case iid
    /// Label skew (Hsu et al. 2019): each class is split among the clients by proportions drawn from
    /// Dir(alpha · 1). Small alpha (e.g. 0.1) gives each client few classes; large alpha approaches IID.
    case dirichlet(alpha: Double)

    /// Parses `iid` or `dirichlet:ALPHA` (ALPHA positive and finite), ignoring case and surrounding spaces.
    /// - Throws: `FederatedError.badPartitionScheme` naming the text and what is wrong with it.
    public init(parsing text: String) throws(FederatedError) {
        let trimmed = text.trimmingSpaces().lowercased()
        if trimmed == "iid" {
            self = .iid
            return
        }
        let parts = trimmed.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0] == "dirichlet" else {
            throw .badPartitionScheme(text: text, reason: "unknown scheme")
        }
        guard let alpha = Double(parts[1].trimmingSpaces()) else {
            throw .badPartitionScheme(text: text, reason: "'\(parts[1])' is not a number")
        }
        guard alpha > 0 && alpha.isFinite else {
            throw .badPartitionScheme(text: text, reason: "alpha must be positive and finite, got \(alpha)")
        }
        self = .dirichlet(alpha: alpha)
    }
}

extension PartitionScheme: CustomStringConvertible {
    /// `iid` or `dirichlet:ALPHA`, which `init(parsing:)` reads back to the same scheme.
    public var description: String {
        switch self {
        case .iid: return "iid"
        case .dirichlet(let alpha): return "dirichlet:\(alpha)"
        }
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces, tabs and newlines.
    func trimmingSpaces() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        return String(drop(while: isSpace).reversed().drop(while: isSpace).reversed())
    }
}
