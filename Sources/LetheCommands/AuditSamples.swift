import Data
import Foundation
import Jobs
import NN
import Tensor
import Transport
import Unlearning

/// The samples an audit scores: the forget set (positives) and as many held-out test samples (negatives), drawn
/// with the seed class by class in the forget set's proportions so that class difficulty does not tell them
/// apart (every test sample of a class when it has fewer).
struct AuditSamples {
    /// Training indices.
    let forget: [Int]
    /// Test indices.
    let nonMembers: [Int]

    init(scenario: Scenario, seed: UInt64) {
        forget = scenario.forgetSet.forget
        let wanted = Dictionary(grouping: forget) { scenario.train.labels[$0] }.mapValues(\.count)
        nonMembers = wanted.keys.sorted().flatMap { label -> [Int] in
            let candidates = scenario.test.indices(ofClasses: [label])
            var generator = SeededGenerator(seed: seed, stream: "audit-non-members-\(label)")
            return generator.permutation(candidates.count).prefix(wanted[label]!).map { candidates[$0] }
        }.sorted()
    }

    var count: Int { forget.count + nonMembers.count }

    /// Each audited sample's training index (nil for the test samples, which no reference trained on).
    var trainingIndices: [Int?] { forget.map { $0 } + nonMembers.map { _ in nil } }

    /// φ (`LogitConfidence`) of `model` on the forget samples, then on the non-members.
    func phi(of model: Model, scenario: Scenario) -> [Double] {
        let inTrain = Evaluator.predict(model, on: scenario.train, indices: forget)
        let inTest = Evaluator.predict(model, on: scenario.test, indices: nonMembers)
        return LogitConfidence.phi(logits: inTrain.logits, labels: inTrain.labels)
            + LogitConfidence.phi(logits: inTest.logits, labels: inTest.labels)
    }
}

/// Every audited sample's scores, so anyone can recompute the figures: CSV (one row per sample, columns per
/// model) when the path ends in .csv, JSON otherwise.
struct AuditScoresFile {
    let samples: AuditSamples
    let audit: MembershipAudit
    let models: [(name: String, phi: [Double], scores: MembershipScores)]

    func write(to path: String) throws {
        let text = path.lowercased().hasSuffix(".csv") ? csv() : try json()
        try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    private func identity(_ row: Int) -> (group: String, split: String, index: Int) {
        row < samples.forget.count
            ? ("forget", "train", samples.forget[row])
            : ("non-member", "test", samples.nonMembers[row - samples.forget.count])
    }

    private func csv() -> String {
        var header = ["group", "split", "index", "ref_out_mean", "ref_out_count", "ref_in_mean", "ref_in_count"]
        for model in models {
            header += [
                "\(model.name)_phi", "\(model.name)_offline_z", "\(model.name)_offline_p", "\(model.name)_online_llr",
            ]
        }
        var lines = [header.joined(separator: ",")]
        for row in 0..<samples.count {
            let (group, split, index) = identity(row)
            var fields = [
                group, split, "\(index)", number(audit.outFit.means[row]), "\(audit.outFit.counts[row])",
                number(audit.inFit.means[row]), "\(audit.inFit.counts[row])",
            ]
            for model in models {
                fields += [
                    number(model.phi[row]), number(model.scores.offline[row]),
                    number(model.scores.offlinePValues[row]), number(model.scores.online?[row]),
                ]
            }
            lines.append(fields.joined(separator: ","))
        }
        lines.append("# pooled variances: out \(audit.outFit.variance), in \(audit.inFit.variance)")
        return lines.joined(separator: "\n") + "\n"
    }

    private func number(_ value: Double?) -> String { value.map { String(format: "%.6g", $0) } ?? "" }

    private struct Row: Encodable {
        let group: String
        let split: String
        let index: Int
        let refOutMean: Double?
        let refOutCount: Int
        let refInMean: Double?
        let refInCount: Int
        let models: [String: ModelScores]
    }

    private struct ModelScores: Encodable {
        let phi: Double
        let offlineZ: Double
        let offlineP: Double
        let onlineLlr: Double?
    }

    private struct File: Encodable {
        let pooledOutVariance: Double
        let pooledInVariance: Double
        let samples: [Row]
    }

    private func json() throws -> String {
        let rows = (0..<samples.count).map { row in
            let (group, split, index) = identity(row)
            return Row(
                group: group, split: split, index: index, refOutMean: audit.outFit.means[row],
                refOutCount: audit.outFit.counts[row], refInMean: audit.inFit.means[row],
                refInCount: audit.inFit.counts[row],
                models: Dictionary(
                    uniqueKeysWithValues: models.map { model in
                        (
                            model.name,
                            ModelScores(
                                phi: model.phi[row], offlineZ: model.scores.offline[row],
                                offlineP: model.scores.offlinePValues[row], onlineLlr: model.scores.online?[row])
                        )
                    }))
        }
        let file = File(pooledOutVariance: audit.outFit.variance, pooledInVariance: audit.inFit.variance, samples: rows)
        return String(decoding: try JSONEncoder.sorted.encode(file), as: UTF8.self)
    }
}
