import Tensor

/// Divides a training set among federated clients. Every random choice comes from a `SeededGenerator`, and cut
/// points are rounded deterministically, so the same inputs give the same partition on every machine.
public enum Partition {
    /// The most Dirichlet draws tried before giving up on giving every client `minimumSamples` samples.
    public static let maximumAttempts = 1000

    /// Each client's training indices, ascending; the lists are disjoint and together cover every sample.
    ///
    /// - `.iid`: one seeded permutation of all samples cut into `clients` parts whose sizes differ by at most 1.
    /// - `.dirichlet(alpha)`: for each class in turn, its samples are shuffled and split among the clients by
    ///   proportions drawn from Dir(alpha · 1) (cut points rounded to the nearest sample). The whole split is
    ///   redrawn, from the next attempt's stream, until every client has at least `minimumSamples` samples.
    /// - Parameters:
    ///   - labels: The class of every sample, in 0..<classCount.
    ///   - clients: The number of clients (at least 1).
    ///   - minimumSamples: The fewest samples any client may get (negative counts as 0).
    /// - Throws: `FederatedError.noClients`, `.tooManyClients` (when `clients × minimumSamples` exceeds the
    ///   sample count), `.labelOutOfRange`, `.badPartitionScheme` (alpha not positive and finite), or
    ///   `.partitionFailed` after `maximumAttempts` Dirichlet draws that all left a client short.
    public static func split(
        labels: [Int], classCount: Int, clients: Int, scheme: PartitionScheme, seed: UInt64,
        minimumSamples: Int = 10
    ) throws(FederatedError) -> [[Int]] {
        let minimum = max(minimumSamples, 0)
        guard clients >= 1 else { throw .noClients(clients: clients) }
        if minimum > 0 && clients > labels.count / minimum {
            throw .tooManyClients(clients: clients, samples: labels.count, minimumSamples: minimum)
        }
        if let index = labels.firstIndex(where: { $0 < 0 || $0 >= classCount }) {
            throw .labelOutOfRange(index: index, label: labels[index], classCount: classCount)
        }
        switch scheme {
        case .iid:
            return iid(count: labels.count, clients: clients, seed: seed)
        case .dirichlet(let alpha):
            guard alpha > 0 && alpha.isFinite else {
                throw .badPartitionScheme(text: scheme.description, reason: "alpha must be positive and finite")
            }
            let members = classMembers(labels: labels, classCount: classCount)
            for attempt in 0..<maximumAttempts {
                var generator = SeededGenerator(seed: seed, stream: "partition.attempt.\(attempt)")
                let parts = dirichlet(members: members, clients: clients, alpha: alpha, using: &generator)
                if parts.allSatisfy({ $0.count >= minimum }) { return parts }
            }
            throw .partitionFailed(
                scheme: scheme.description, clients: clients, minimumSamples: minimum, attempts: maximumAttempts)
        }
    }

    private static func iid(count: Int, clients: Int, seed: UInt64) -> [[Int]] {
        var generator = SeededGenerator(seed: seed, stream: "partition.iid")
        let order = generator.permutation(count)
        return (0..<clients).map { client in
            order[(count * client / clients)..<(count * (client + 1) / clients)].sorted()
        }
    }

    /// The indices of each class, ascending.
    private static func classMembers(labels: [Int], classCount: Int) -> [[Int]] {
        var members = [[Int]](repeating: [], count: classCount)
        for (index, label) in labels.enumerated() { members[label].append(index) }
        return members
    }

    private static func dirichlet(
        members: [[Int]], clients: Int, alpha: Double, using generator: inout SeededGenerator
    ) -> [[Int]] {
        var parts = [[Int]](repeating: [], count: clients)
        for indices in members {
            let order = generator.permutation(indices.count)
            let proportions = generator.nextDirichlet(alpha: alpha, count: clients)
            let cuts = cutPoints(proportions: proportions, count: indices.count)
            for client in 0..<clients {
                parts[client] += order[cuts[client]..<cuts[client + 1]].map { indices[$0] }
            }
        }
        return parts.map { $0.sorted() }
    }

    /// `proportions.count + 1` non-decreasing boundaries from 0 to `count`: boundary j is the running sum of the
    /// first j proportions times `count`, rounded to the nearest integer.
    static func cutPoints(proportions: [Double], count: Int) -> [Int] {
        var cuts = [0]
        var running = 0.0
        for proportion in proportions.dropLast() {
            running += proportion
            let cut = Int((running * Double(count)).rounded())
            cuts.append(min(max(cut, cuts[cuts.count - 1]), count))
        }
        cuts.append(count)
        return cuts
    }
}
