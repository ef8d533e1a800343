import Foundation
import Unlearning

/// `gkt`: which checkpoint its leak guard returned and why — each checkpoint's share of the data-free probe
/// (class impressions and generated images the original assigns to a forgotten class) that the student assigns
/// to a forgotten class, against the forget target.
public struct LeakGuardChoice: Codable {
    public struct Checkpoint: Codable {
        /// Pseudo-batches trained when it was taken.
        public let pseudoBatches: Int
        public let probeScore: Double
    }

    /// The checkpoint returned (nil: none stayed under the target, and the last state was returned).
    public let returnedCheckpoint: Int?
    public let returnedScore: Double?
    public let target: Double
    public let lastCheckpoint: Int
    /// The first checkpoint after the returned one whose probe score went over the target.
    public let firstLeak: Int?
    public let probeSize: Int
    public let checkpoints: [Checkpoint]
    /// Pseudo-batches whose gate kept no image, and how often the generator went back to its last checkpoint.
    public let emptyPseudoBatches: Int
    public let generatorRestores: Int
    /// The guard was off (`leak-guard=false`): the last state was returned whatever the probe said.
    public let guardOff: Bool

    public init?(_ scalars: [String: Double]) {
        guard let last = scalars[GKT.lastCheckpoint] else { return nil }
        lastCheckpoint = Int(last)
        returnedCheckpoint = scalars[GKT.returnedCheckpoint].map(Int.init)
        returnedScore = scalars[GKT.returnedScore]
        target = scalars[ForgetTarget.key] ?? ForgetTarget.classDefault
        firstLeak = scalars[GKT.firstLeak].map(Int.init)
        probeSize = Int(scalars[GKT.probeSize] ?? 0)
        checkpoints = scalars.compactMap { key, score in
            guard key.hasPrefix(GKT.checkpointScorePrefix),
                let pseudoBatches = Int(key.dropFirst(GKT.checkpointScorePrefix.count))
            else { return nil }
            return Checkpoint(pseudoBatches: pseudoBatches, probeScore: score)
        }.sorted { $0.pseudoBatches < $1.pseudoBatches }
        emptyPseudoBatches = Int(scalars[GKT.emptyPseudoBatches] ?? 0)
        generatorRestores = Int(scalars[GKT.generatorRestores] ?? 0)
        guardOff = scalars[GKT.guardOff] != nil
    }

    public var summary: String {
        let target = String(format: "target %.1f%%", 100 * self.target)
        if guardOff {
            let last = checkpoints.last.map { String(format: ", its probe %.1f%%", 100 * $0.probeScore) } ?? ""
            let would = returnedCheckpoint.map { "; on, it would have returned the checkpoint at \($0)" } ?? ""
            return
                "leak guard off (leak-guard=false): returned the last state (\(lastCheckpoint) pseudo-batches\(last))"
                + would
        }
        guard let returnedCheckpoint, let returnedScore else {
            return
                "leak guard: no checkpoint's probe stayed under the \(target); returned the last state (\(lastCheckpoint) pseudo-batches)"
        }
        var text = String(
            format:
                "leak guard: returned the checkpoint at %d of %d pseudo-batches (%.1f%% of a %d-image probe in a forgotten class ≤ %@)",
            returnedCheckpoint, lastCheckpoint, 100 * returnedScore, probeSize, target)
        if let firstLeak, let leak = checkpoints.first(where: { $0.pseudoBatches == firstLeak }) {
            text += String(format: "; the checkpoint at %d leaked (%.1f%%)", firstLeak, 100 * leak.probeScore)
        } else if returnedCheckpoint == lastCheckpoint {
            text += "; no later checkpoint"
        }
        return text
    }
}
