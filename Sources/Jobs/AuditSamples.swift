import Data
import NN
import Tensor
import Unlearning

/// The samples an audit scores: the forget set (positives) and as many held-out test samples (negatives), drawn
/// with the seed class by class in the forget set's proportions so that class difficulty does not tell them
/// apart (every test sample of a class when it has fewer).
public struct AuditSamples: Sendable {
    /// Training indices.
    public let forget: [Int]
    /// Test indices.
    public let nonMembers: [Int]

    public init(scenario: Scenario, seed: UInt64) {
        forget = scenario.forgetSet.forget
        let wanted = Dictionary(grouping: forget) { scenario.train.labels[$0] }.mapValues(\.count)
        nonMembers = wanted.keys.sorted().flatMap { label -> [Int] in
            let candidates = scenario.test.indices(ofClasses: [label])
            var generator = SeededGenerator(seed: seed, stream: "audit-non-members-\(label)")
            return generator.permutation(candidates.count).prefix(wanted[label]!).map { candidates[$0] }
        }.sorted()
    }

    public var count: Int { forget.count + nonMembers.count }

    /// Each audited sample's training index (nil for the test samples, which no reference trained on).
    public var trainingIndices: [Int?] { forget.map { $0 } + nonMembers.map { _ in nil } }

    /// φ (`LogitConfidence`) of `model` on the forget samples, then on the non-members.
    public func phi(of model: Model, scenario: Scenario) -> [Double] {
        let inTrain = Evaluator.predict(model, on: scenario.train, indices: forget)
        let inTest = Evaluator.predict(model, on: scenario.test, indices: nonMembers)
        return LogitConfidence.phi(logits: inTrain.logits, labels: inTrain.labels)
            + LogitConfidence.phi(logits: inTest.logits, labels: inTest.labels)
    }
}
