import Federated
import Testing

@Suite struct PartitionSchemeTests {
    @Test func parsesIIDAndDirichlet() throws {
        #expect(try PartitionScheme(parsing: "iid") == .iid)
        #expect(try PartitionScheme(parsing: " IID ") == .iid)
        #expect(try PartitionScheme(parsing: "dirichlet:0.5") == .dirichlet(alpha: 0.5))
        #expect(try PartitionScheme(parsing: "Dirichlet: 2") == .dirichlet(alpha: 2))
        #expect(try PartitionScheme(parsing: "dirichlet:1e-3") == .dirichlet(alpha: 0.001))
    }

    @Test(arguments: [
        "", "iid:1", "dirichlet", "dirichlet:", "dirichlet:abc", "dirichlet:0", "dirichlet:-1", "dirichlet:inf",
        "dirichlet:nan", "uniform", "dirichlet:0.5:1",
    ])
    func refusesBadText(_ text: String) {
        #expect {
            _ = try PartitionScheme(parsing: text)
        } throws: { error in
            guard case FederatedError.badPartitionScheme(let quoted, _) = error else { return false }
            return quoted == text && "\(error)".contains("dirichlet:ALPHA")
        }
    }

    @Test func descriptionRoundTrips() throws {
        for scheme in [PartitionScheme.iid, .dirichlet(alpha: 0.5), .dirichlet(alpha: 0.1), .dirichlet(alpha: 1e-5)] {
            #expect(try PartitionScheme(parsing: scheme.description) == scheme)
        }
        #expect(PartitionScheme.dirichlet(alpha: 0.3).description == "dirichlet:0.3")
        #expect(PartitionScheme.iid.description == "iid")
    }
}
