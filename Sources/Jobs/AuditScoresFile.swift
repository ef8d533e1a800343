import Foundation
import Unlearning

/// Every audited sample's scores, so anyone can recompute the figures: CSV (one row per sample, columns per
/// model) when the path ends in .csv, JSON otherwise.
public struct AuditScoresFile {
    public let samples: AuditSamples
    public let audit: MembershipAudit
    public let models: [(name: String, phi: [Double], scores: MembershipScores)]

    public init(
        samples: AuditSamples, audit: MembershipAudit, models: [(name: String, phi: [Double], scores: MembershipScores)]
    ) {
        self.samples = samples
        self.audit = audit
        self.models = models
    }

    public func write(to path: String) throws {
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
