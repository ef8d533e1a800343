import Data
import Federated
import Foundation
import Jobs
import NN
import Tensor
import Transport
import Unlearning
import Wire

/// Runs the verification of a model with the roster's clients and the coordinator's test set.
public struct FederatedVerifier: Sendable {
    public var job: String
    public var architecture: String
    public var test: Dataset
    public var roster: ClientRoster
    public var backdoor: Backdoor?
    public var seed: UInt64
    public var membershipSamples = 1000
    public var deadlineSeconds = 600.0

    public init(
        job: String, architecture: String, test: Dataset, roster: ClientRoster, backdoor: Backdoor?, seed: UInt64
    ) {
        self.job = job
        self.architecture = architecture
        self.test = test
        self.roster = roster
        self.backdoor = backdoor
        self.seed = seed
    }

    /// Evaluates `weights`; `forgotten` is the client being forgotten (its data is the U-set), `remaining` the rest.
    public func verify(_ weights: [(name: String, tensor: Tensor)], forgotten: String?, remaining: [String]) throws
        -> FederatedVerification
    {
        let model = try FederatedRounds.model(weights, architecture: architecture)
        let predictions = Evaluator.predict(model, on: test, indices: Array(0..<test.count))
        let evaluation = Evaluator.summarize(predictions, classCount: test.classCount)
        let online = Set(roster.clientList.filter(\.online).map(\.identity))
        let asked = (remaining + (forgotten.map { [$0] } ?? [])).filter { online.contains($0) }
        let tensors = weights.map { NamedTensor($0.name, $0.tensor) }
        let outcomes = try roster.run(
            asked.map {
                ClientRoster.Assignment(
                    identity: $0,
                    task: RoundTask(
                        job: job, round: 0, kind: .evaluate, architecture: architecture, seed: seed,
                        membershipSamples: membershipSamples), tensors: tensors)
            }, deadline: Date().addingTimeInterval(deadlineSeconds), check: { _, _ in nil })
        var reports: [String: (update: RoundUpdate, losses: [Float])] = [:]
        for (identity, outcome) in outcomes {
            if case .update(let update, let tensors) = outcome, update.kind == .evaluate {
                reports[identity] = (update, tensors.first { $0.name == "losses" }?.tensor.scalars ?? [])
            }
        }
        func accuracy(_ identities: [String]) -> Double? {
            let answered = identities.compactMap { reports[$0]?.update }
            let total = answered.reduce(0) { $0 + $1.total.reduce(0, +) }
            return total == 0 ? nil : Double(answered.reduce(0) { $0 + $1.correct.reduce(0, +) }) / Double(total)
        }
        var membership: Double?
        if let forgotten, let losses = reports[forgotten]?.losses {
            membership = try? MembershipInference.attackAccuracy(
                members: losses.map(Double.init), nonMembers: predictions.losses.map(Double.init), seed: seed)
        }
        return FederatedVerification(
            testAccuracy: evaluation.accuracy, perClassTestAccuracy: evaluation.perClassAccuracy,
            backdoorSuccessRate: backdoor.map { $0.attackSuccessRate(of: model, on: test) },
            remainingAccuracy: accuracy(remaining), forgottenAccuracy: forgotten.flatMap { accuracy([$0]) },
            membershipAttack: membership, clientsAnswered: reports.count)
    }
}
