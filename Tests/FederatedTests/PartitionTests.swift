import Federated
import LetheTesting
import Testing

@Suite struct PartitionTests {
    /// 1000 samples, 100 of each of 10 classes, in shuffled order.
    let labels = labelledDataset(perClass: Array(repeating: 100, count: 10)).labels

    func split(
        _ scheme: PartitionScheme, clients: Int = 10, seed: UInt64 = 7, minimumSamples: Int = 10
    ) throws -> [[Int]] {
        try Federated.Partition.split(
            labels: labels, classCount: 10, clients: clients, scheme: scheme, seed: seed,
            minimumSamples: minimumSamples)
    }

    /// Checks the parts are ascending, disjoint and cover 0..<count.
    func expectValid(_ parts: [[Int]], count: Int, minimum: Int) {
        #expect(parts.allSatisfy { $0 == $0.sorted() })
        #expect(parts.flatMap { $0 }.sorted() == Array(0..<count))
        #expect(parts.allSatisfy { $0.count >= minimum })
    }

    /// The mean over clients of the share of a client's samples that belong to its most common class.
    func meanLargestClassShare(_ parts: [[Int]]) -> Double {
        let shares = parts.map { part -> Double in
            var counts = [Int](repeating: 0, count: 10)
            for index in part { counts[labels[index]] += 1 }
            return Double(counts.max() ?? 0) / Double(part.count)
        }
        return shares.reduce(0, +) / Double(shares.count)
    }

    @Test func iidPartsAreNearlyEqualDisjointAndComplete() throws {
        for clients in [1, 7, 10] {
            let parts = try split(.iid, clients: clients)
            #expect(parts.count == clients)
            expectValid(parts, count: 1000, minimum: 10)
            let sizes = parts.map(\.count)
            #expect((sizes.max() ?? 0) - (sizes.min() ?? 0) <= 1)
        }
    }

    @Test func dirichletPartsAreDisjointCompleteAndLargeEnough() throws {
        for alpha in [0.1, 0.5, 100] {
            let parts = try split(.dirichlet(alpha: alpha), minimumSamples: 20)
            #expect(parts.count == 10)
            expectValid(parts, count: 1000, minimum: 20)
        }
    }

    @Test func sameSeedSamePartitionOtherSeedOther() throws {
        for scheme in [PartitionScheme.iid, .dirichlet(alpha: 0.5)] {
            #expect(try split(scheme, seed: 3) == split(scheme, seed: 3))
            #expect(try split(scheme, seed: 3) != split(scheme, seed: 4))
        }
    }

    @Test func dirichletIsLabelSkewedAndIIDIsNot() throws {
        func share(_ scheme: PartitionScheme) throws -> Double {
            try (1...4).map { seed in meanLargestClassShare(try split(scheme, seed: seed)) }.reduce(0, +) / 4
        }
        let iid = try share(.iid)
        let mild = try share(.dirichlet(alpha: 0.5))
        let strong = try share(.dirichlet(alpha: 0.1))
        let nearlyIID = try share(.dirichlet(alpha: 1000))
        #expect(iid < 0.2)
        #expect(nearlyIID < 0.2)
        #expect(mild > iid + 0.1)
        #expect(strong > mild + 0.1)
    }

    /// Pinned outputs: a change here changes every experiment's client data for the same seed.
    @Test func smallSplitsArePinned() throws {
        let small = [0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2]
        let iid = try Federated.Partition.split(
            labels: small, classCount: 3, clients: 3, scheme: .iid, seed: 1, minimumSamples: 1)
        let dirichlet = try Federated.Partition.split(
            labels: small, classCount: 3, clients: 3, scheme: .dirichlet(alpha: 0.5), seed: 1, minimumSamples: 1)
        #expect(iid == PinnedPartitions.iid)
        #expect(dirichlet == PinnedPartitions.dirichlet)
    }

    @Test func refusesImpossibleRequests() {
        #expect(throws: FederatedError.noClients(clients: 0)) { try split(.iid, clients: 0) }
        #expect(throws: FederatedError.tooManyClients(clients: 101, samples: 1000, minimumSamples: 10)) {
            try split(.iid, clients: 101)
        }
        #expect(throws: FederatedError.tooManyClients(clients: 51, samples: 1000, minimumSamples: 20)) {
            try split(.dirichlet(alpha: 0.5), clients: 51, minimumSamples: 20)
        }
        #expect(throws: FederatedError.labelOutOfRange(index: 2, label: 3, classCount: 3)) {
            try Federated.Partition.split(
                labels: [0, 1, 3], classCount: 3, clients: 1, scheme: .iid, seed: 0, minimumSamples: 1)
        }
        #expect(throws: FederatedError.self) { try split(.dirichlet(alpha: 0)) }
        #expect(throws: FederatedError.self) { try split(.dirichlet(alpha: .infinity)) }
    }

    @Test func exactlyEnoughSamplesIsAccepted() throws {
        let parts = try split(.iid, clients: 100)
        expectValid(parts, count: 1000, minimum: 10)
    }

    @Test func givesUpWhenEveryDrawLeavesAClientShort() {
        // With alpha 0.001 each class goes (almost) entirely to one client, so at most 10 of 20 clients get samples.
        #expect(
            throws: FederatedError.partitionFailed(
                scheme: "dirichlet:0.001", clients: 20, minimumSamples: 10,
                attempts: Federated.Partition.maximumAttempts)
        ) {
            try split(.dirichlet(alpha: 0.001), clients: 20)
        }
    }
}

enum PinnedPartitions {
    static let iid = [[0, 4, 9, 11], [2, 3, 8, 10], [1, 5, 6, 7]]
    static let dirichlet = [[0], [2, 4, 5, 8, 9, 10, 11], [1, 3, 6, 7]]
}
