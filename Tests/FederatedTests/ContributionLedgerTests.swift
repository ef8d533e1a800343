import Federated
import Tensor
import Testing

@Suite struct ContributionLedgerTests {
    let reference = ["a": vector([1, 2, 3]), "b": Tensor(shape: [1, 2], scalars: [0.5, -1])]

    @Test func accumulatesAbsoluteDifferencesOverRounds() throws {
        var ledger = ContributionLedger()
        #expect(ledger.rounds == 0 && ledger.sums.isEmpty && ledger.byteCount == 0)

        try ledger.accumulate(
            client: ["a": vector([2, 0, 3]), "b": Tensor(shape: [1, 2], scalars: [0, 1])], reference: reference)
        #expect(ledger.rounds == 1)
        expectClose(ledger.sums["a"], vector([1, 2, 0]))
        expectClose(ledger.sums["b"], Tensor(shape: [1, 2], scalars: [0.5, 2]))

        // Client parameters the reference lacks are ignored.
        try ledger.accumulate(
            client: [
                "a": vector([0.5, 2, 4.5]), "b": Tensor(shape: [1, 2], scalars: [0.5, -1]), "extra": vector([9]),
            ],
            reference: reference)
        try ledger.accumulate(
            client: ["a": vector([1, 1.5, 3]), "b": Tensor(shape: [1, 2], scalars: [-0.5, -3])], reference: reference)
        #expect(ledger.rounds == 3)
        #expect(Set(ledger.sums.keys) == ["a", "b"])
        expectClose(ledger.sums["a"], vector([1.5, 2.5, 1.5]))
        expectClose(ledger.sums["b"], Tensor(shape: [1, 2], scalars: [1.5, 4]))
        #expect(ledger.byteCount == 4 * 5)
    }

    @Test func aRoundReferenceMeasuresEachRoundsOwnUpdate() throws {
        var ledger = ContributionLedger()
        var global = ["w": vector([0, 0])]
        for client in [vector([1, -1]), vector([3, -1]), vector([2, 2])] {
            try ledger.accumulate(client: ["w": client], reference: global)
            global = ["w": client]
        }
        expectClose(ledger.sums["w"], vector([4, 4]))
    }

    @Test func restoringKeepsSumsAndRounds() throws {
        var ledger = ContributionLedger()
        try ledger.accumulate(
            client: ["a": vector([2, 2, 2]), "b": vector([1, 1]).reshaped([1, 2])], reference: reference)
        var restored = ContributionLedger(sums: ledger.sums, rounds: ledger.rounds)
        #expect(restored == ledger)
        try restored.accumulate(client: reference, reference: reference)
        #expect(restored.rounds == 2)
        #expect(restored.sums == ledger.sums)
    }

    @Test func mismatchesAreRefusedAndLeaveTheLedgerUnchanged() throws {
        var ledger = ContributionLedger()
        try ledger.accumulate(
            client: ["a": vector([2, 2, 2]), "b": vector([1, 1]).reshaped([1, 2])], reference: reference)
        let before = ledger

        #expect(throws: FederatedError.missingParameter(name: "b", context: "the client update")) {
            try ledger.accumulate(client: ["a": vector([0, 0, 0])], reference: reference)
        }
        // "a" is fine and comes first; the refusal over "b" must not leave "a" accumulated.
        #expect(
            throws: FederatedError.shapeMismatch(name: "b", expected: [1, 2], found: [2], context: "the client update")
        ) {
            try ledger.accumulate(client: ["a": vector([0, 0, 0]), "b": vector([0, 0])], reference: reference)
        }
        #expect(throws: FederatedError.self) {
            try ledger.accumulate(client: reference, reference: ["a": vector([1, 2, 3])])
        }
        var grown = reference
        grown["c"] = vector([1])
        #expect(throws: FederatedError.self) { try ledger.accumulate(client: grown, reference: grown) }
        var reshaped = reference
        reshaped["a"] = vector([1, 2, 3, 4])
        #expect(throws: FederatedError.self) { try ledger.accumulate(client: reshaped, reference: reshaped) }
        #expect(throws: FederatedError.noParameters(context: "the reference model")) {
            try ledger.accumulate(client: reference, reference: [:])
        }
        #expect(ledger == before)
    }

    @Test func theFirstRefusalAlsoLeavesAnEmptyLedgerEmpty() {
        var ledger = ContributionLedger()
        #expect(throws: FederatedError.self) {
            try ledger.accumulate(client: ["a": vector([1, 2, 3])], reference: reference)
        }
        #expect(ledger == ContributionLedger())
    }
}
