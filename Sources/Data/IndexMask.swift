/// Which sample indices belong to a set, as one flag per index below a bound: membership tests and ascending
/// listings over a dataset's samples without hashing (a `Set<Int>` of 60,000 samples takes milliseconds to build).
public struct IndexMask: Sendable {
    private var members: [Bool]

    /// `indices` (each ≥ 0) as members.
    public init(_ indices: some Sequence<Int>) {
        members = []
        for index in indices {
            precondition(index >= 0, "negative index \(index)")
            if index >= members.count { members += repeatElement(false, count: index + 1 - members.count) }
            members[index] = true
        }
    }

    public func contains(_ index: Int) -> Bool { index >= 0 && index < members.count && members[index] }

    /// The members, ascending, each once.
    public var sorted: [Int] { members.indices.filter { members[$0] } }
}
