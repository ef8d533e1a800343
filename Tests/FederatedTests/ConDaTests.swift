import Federated
import Tensor
import Testing

@Suite struct ConDaTests {
    // Φ_f = [4, 1, 0, 2, 0]; Φ_r = mean([1, 2, 3, 0, 0], [1, 0, 1, 4, 0]) = [1, 1, 2, 2, 0].
    // Ratio Φ_r / max(Φ_f, ε) = [0.25, 1, ≈2e12, 1, undefined]; inverted ratio Φ_f / max(Φ_r, ε) = [4, 1, 0, 1, undefined].
    let forgotten = ContributionLedger(sums: ["w": vector([4, 1, 0, 2, 0])], rounds: 2)
    let remaining = [
        ContributionLedger(sums: ["w": vector([1, 2, 3, 0, 0])], rounds: 2),
        ContributionLedger(sums: ["w": vector([1, 0, 1, 4, 0])], rounds: 2),
    ]
    let weights = ["w": vector([8, 8, 8, 8, 8]), "bias": vector([5, -5])]

    @Test func dampensOnlyWhatTheForgottenClientDominated() throws {
        let result = try ConDa().dampen(weights, forgotten: forgotten, remaining: remaining)
        expectClose(result.weights["w"], vector([2, 8, 8, 8, 8]))
        #expect(result.dampened == 1)
        #expect(result.total == 5)
        #expect(result.weights["bias"] == weights["bias"])
    }

    @Test func lambdaScalesTheFactorAndUpperCapsIt() throws {
        let doubled = try ConDa(lambda: 2).dampen(weights, forgotten: forgotten, remaining: remaining)
        expectClose(doubled.weights["w"], vector([4, 8, 8, 8, 8]))

        // alpha 1.5 also selects the ratio-1 elements; lambda 3 gives factors 0.75 and 3, the latter capped.
        let capped = try ConDa(alpha: 1.5, lambda: 3).dampen(weights, forgotten: forgotten, remaining: remaining)
        expectClose(capped.weights["w"], vector([6, 8, 8, 8, 8]))
        #expect(capped.dampened == 3)
        let lowCap = try ConDa(alpha: 1.5, lambda: 3, upper: 0.5).dampen(
            weights, forgotten: forgotten, remaining: remaining)
        expectClose(lowCap.weights["w"], vector([4, 4, 8, 4, 8]))
    }

    @Test func epsilonGuardsAZeroForgottenContribution() throws {
        // Φ_f = 0 with Φ_r = 2: the ratio is 2 / ε = 2e12, finite, so a huge alpha selects it and a tiny lambda
        // turns it into the factor 2e12 · 1e-13 = 0.2 (a division by zero would give ∞ and never be selected).
        let guarded = try ConDa(alpha: 1e20, lambda: 1e-13).dampen(weights, forgotten: forgotten, remaining: remaining)
        #expect(guarded.weights["w"]?.isFinite == true)
        #expect(guarded.dampened == 4)
        expectClose(guarded.weights["w"], vector([2e-13, 8e-13, 1.6, 8e-13, 8]))
        // A large epsilon takes part in every ratio: Φ_r / max(Φ_f, 4) = [0.25, 0.25, 0.5, 0.5, –].
        let wide = try ConDa(alpha: 0.6, epsilon: 4).dampen(weights, forgotten: forgotten, remaining: remaining)
        expectClose(wide.weights["w"], vector([2, 2, 4, 4, 8]))
        #expect(wide.dampened == 4)
    }

    @Test func elementsNoClientMovedAreLeftAlone() throws {
        for repoCompat in [false, true] {
            let result = try ConDa(alpha: 1e20, repoCompat: repoCompat).dampen(
                weights, forgotten: forgotten, remaining: remaining)
            #expect(result.weights["w"]?.scalars[4] == 8)
            #expect(result.dampened == 4)
        }
    }

    @Test func repoCompatInvertsTheRatio() throws {
        let result = try ConDa(repoCompat: true).dampen(weights, forgotten: forgotten, remaining: remaining)
        // Only element 2 (inverted ratio 0) is selected, and its factor min(λ · 0, 1) zeroes it.
        expectClose(result.weights["w"], vector([8, 8, 0, 8, 8]))
        #expect(result.dampened == 1)

        let wide = try ConDa(alpha: 1.5, lambda: 0.5, repoCompat: true).dampen(
            weights, forgotten: forgotten, remaining: remaining)
        expectClose(wide.weights["w"], vector([8, 4, 0, 4, 8]))
    }

    @Test func remainingLedgersAreAveraged() throws {
        // One remaining ledger equal to the mean gives the same result as the two.
        let single = [ContributionLedger(sums: ["w": vector([1, 1, 2, 2, 0])], rounds: 2)]
        let a = try ConDa(alpha: 1.5, lambda: 0.7).dampen(weights, forgotten: forgotten, remaining: remaining)
        let b = try ConDa(alpha: 1.5, lambda: 0.7).dampen(weights, forgotten: forgotten, remaining: single)
        #expect(a == b)
        // A third ledger lowers the mean of element 1 from 1 to 2/3.
        let three = remaining + [ContributionLedger(sums: ["w": vector([1, 0, 2, 2, 0])], rounds: 2)]
        let c = try ConDa().dampen(weights, forgotten: forgotten, remaining: three)
        expectClose(c.weights["w"], vector([2, 8, 8, 8, 8]))
        let d = try ConDa(alpha: 0.7).dampen(weights, forgotten: forgotten, remaining: three)
        expectClose(d.weights["w"], vector([2, 8 * 2 / 3, 8, 8, 8]))
    }

    @Test func refusesMissingOrMismatchedLedgersAndWeights() {
        #expect(throws: FederatedError.noRemainingClients) {
            try ConDa().dampen(weights, forgotten: forgotten, remaining: [])
        }
        let renamed = ContributionLedger(sums: ["v": vector([1, 1, 1, 1, 1])], rounds: 1)
        #expect(throws: FederatedError.missingParameter(name: "w", context: "the ledger of remaining client 1")) {
            try ConDa().dampen(weights, forgotten: forgotten, remaining: [remaining[0], renamed])
        }
        let extra = ContributionLedger(sums: ["w": vector([1, 1, 1, 1, 1]), "v": vector([1])], rounds: 1)
        #expect(throws: FederatedError.unexpectedParameter(name: "v", context: "the ledger of remaining client 0")) {
            try ConDa().dampen(weights, forgotten: forgotten, remaining: [extra])
        }
        let short = ContributionLedger(sums: ["w": vector([1, 1])], rounds: 1)
        #expect(
            throws: FederatedError.shapeMismatch(
                name: "w", expected: [5], found: [2], context: "the ledger of remaining client 0")
        ) {
            try ConDa().dampen(weights, forgotten: forgotten, remaining: [short])
        }
        #expect(throws: FederatedError.missingParameter(name: "w", context: "the weights")) {
            try ConDa().dampen(["bias": vector([1])], forgotten: forgotten, remaining: remaining)
        }
        #expect(throws: FederatedError.shapeMismatch(name: "w", expected: [5], found: [1, 5], context: "the weights")) {
            try ConDa().dampen(["w": Tensor(zeros: [1, 5])], forgotten: forgotten, remaining: remaining)
        }
    }
}
