import Tensor

/// The membership-inference attack used to verify unlearning in SCRUB (Kurmanji et al., "Towards Unbounded Machine
/// Unlearning", 2023).
///
/// The attacker sees one score per sample (typically the loss or the output entropy) and tries to tell members
/// (e.g. the forget set) from non-members (e.g. test samples of the same classes) with a 1-D logistic regression.
/// The two sets are balanced by seeded subsampling of the larger one, members are labelled 1 and non-members 0, and
/// the mean test accuracy over several seeded stratified shuffle splits is reported. An accuracy near 0.5 means the
/// attacker cannot tell members from non-members; near 1 means the model still remembers its members.
public enum MembershipInference {
    /// The fewest samples each side must have (after balancing, each side has the size of the smaller one).
    public static let minimumSamplesPerSide = 10

    /// The outcome of an attack.
    public struct Report: Sendable, Equatable, Codable {
        /// Samples per side after balancing.
        public var samplesPerSide: Int
        /// Held-out samples per side in each split.
        public var testSamplesPerSide: Int
        /// Test accuracy of each split, in [0, 1].
        public var splitAccuracies: [Double]
        /// Mean of `splitAccuracies`.
        public var accuracy: Double
    }

    /// Runs the attack and returns the mean test accuracy over the splits, in [0, 1].
    ///
    /// See `attack(members:nonMembers:seed:splits:testFraction:)`.
    /// - Throws: `MembershipInferenceError` when there are too few samples or a score is not finite.
    public static func attackAccuracy(
        members: [Double], nonMembers: [Double], seed: UInt64, splits: Int = 5, testFraction: Double = 0.1
    ) throws(MembershipInferenceError) -> Double {
        try attack(members: members, nonMembers: nonMembers, seed: seed, splits: splits, testFraction: testFraction)
            .accuracy
    }

    /// Runs the attack.
    ///
    /// Each split holds out `round(n · testFraction)` samples of each side (at least one, at most n − 1), fits a
    /// `LogisticRegression1D` on the rest and measures its accuracy on the held-out samples. Everything random is
    /// drawn from `seed`, so equal inputs and seed give equal reports.
    /// - Parameters:
    ///   - members: One score per member sample (label 1).
    ///   - nonMembers: One score per non-member sample (label 0).
    ///   - splits: The number of stratified shuffle splits (positive).
    ///   - testFraction: The fraction of each side held out for testing, in (0, 1).
    /// - Throws: `MembershipInferenceError.tooFewSamples` when either side has fewer than `minimumSamplesPerSide`
    ///   samples, `.nonFiniteScore` when a score is NaN or infinite.
    public static func attack(
        members: [Double], nonMembers: [Double], seed: UInt64, splits: Int = 5, testFraction: Double = 0.1
    ) throws(MembershipInferenceError) -> Report {
        precondition(splits > 0, "splits must be positive, got \(splits)")
        precondition(testFraction > 0 && testFraction < 1, "testFraction must be in (0, 1), got \(testFraction)")
        guard min(members.count, nonMembers.count) >= minimumSamplesPerSide else {
            throw .tooFewSamples(members: members.count, nonMembers: nonMembers.count, minimum: minimumSamplesPerSide)
        }
        guard members.allSatisfy(\.isFinite) && nonMembers.allSatisfy(\.isFinite) else { throw .nonFiniteScore }

        let (positives, negatives) = balanced(members: members, nonMembers: nonMembers, seed: seed)
        let n = positives.count
        let testCount = min(n - 1, max(1, Int((Double(n) * testFraction).rounded())))
        var accuracies: [Double] = []
        for split in 0..<splits {
            var generator = SeededGenerator(seed: seed, stream: "membership-inference.split.\(split)")
            let positiveOrder = generator.permutation(n)
            let negativeOrder = generator.permutation(n)
            let trainFeatures =
                positiveOrder[testCount...].map { positives[$0] }
                + negativeOrder[testCount...].map {
                    negatives[$0]
                }
            let trainLabels =
                [Bool](repeating: true, count: n - testCount) + [Bool](repeating: false, count: n - testCount)
            let testFeatures =
                positiveOrder[..<testCount].map { positives[$0] }
                + negativeOrder[..<testCount].map {
                    negatives[$0]
                }
            let testLabels = [Bool](repeating: true, count: testCount) + [Bool](repeating: false, count: testCount)
            let model = LogisticRegression1D(features: trainFeatures, labels: trainLabels)
            accuracies.append(model.accuracy(features: testFeatures, labels: testLabels))
        }
        return Report(
            samplesPerSide: n, testSamplesPerSide: testCount, splitAccuracies: accuracies,
            accuracy: accuracies.reduce(0, +) / Double(splits))
    }

    /// Both sides cut to the size of the smaller one: the smaller side unchanged, the larger one a seeded random
    /// subset of it, kept in its original order.
    public static func balanced(
        members: [Double], nonMembers: [Double], seed: UInt64
    ) -> (members: [Double], nonMembers: [Double]) {
        let size = min(members.count, nonMembers.count)
        var generator = SeededGenerator(seed: seed, stream: "membership-inference.balance")
        func subsample(_ values: [Double]) -> [Double] {
            guard values.count > size else { return values }
            return generator.permutation(values.count).prefix(size).sorted().map { values[$0] }
        }
        return (subsample(members), subsample(nonMembers))
    }
}

/// Why a membership-inference attack could not give a meaningful accuracy.
public enum MembershipInferenceError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A side has fewer samples than `minimum`.
    case tooFewSamples(members: Int, nonMembers: Int, minimum: Int)
    /// A score is NaN or infinite.
    case nonFiniteScore

    public var description: String {
        switch self {
        case .tooFewSamples(let members, let nonMembers, let minimum):
            "membership inference needs at least \(minimum) members and \(minimum) non-members, "
                + "got \(members) and \(nonMembers)"
        case .nonFiniteScore:
            "membership inference needs finite scores"
        }
    }
}
