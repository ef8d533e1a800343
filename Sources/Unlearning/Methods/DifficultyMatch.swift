/// How sure models that never trained on a sample are of its label: φ = log(p / (1 − p)) (`LogitConfidence`)
/// under each membership-audit reference (`lethe audit prepare`) where the sample was OUT, nil where it was IN.
/// Keyed by the problem's training indices (held-out samples included; no reference trained on those).
public struct UnseenConfidence: Sendable {
    public let references: Int
    public let phi: [Int: [Double?]]

    public init(references: Int, phi: [Int: [Double?]]) {
        precondition(phi.values.allSatisfy { $0.count == references }, "one φ (or nil) per reference")
        self.references = references
        self.phi = phi
    }
}

/// Held-out samples that stand in for the forget samples one for one, each as hard as its forget sample for
/// models that never saw either.
///
/// A random forget set is not always as hard as held-out data: on the memorising benchmark's seed 3 a retrain
/// gets 94.3% of the forget set right against 91.7% of the test set, and calibrating to held-out data then lands
/// 2.8 points too low. The references see that difference: for each forget sample, the held-out sample of its
/// class whose mean φ under the same OUT references is nearest to its own is its stand-in (repeats allowed; ties
/// go to the lower index). Targets and calibrations measured on the stand-ins carry the forget set's own
/// difficulty, measured by the model being unlearned.
public struct DifficultyMatch: Sendable, Codable, Equatable {
    public let references: Int
    /// One held-out training index per forget sample, in the forget set's order.
    public let standIns: [Int]
    /// How many different held-out samples stand in.
    public let distinct: Int
    /// Mean φ of the forget samples and of their stand-ins under the references (equal when the match is close).
    public let forgetMeanPhi: Double
    public let standInMeanPhi: Double

    /// The stand-ins for `forget` among `candidates` (held-out training indices); nil when a forget sample has no
    /// OUT reference or no candidate of its label has φ under them.
    public init?(forget: [Int], candidates: [Int], labels: [Int], unseen: UnseenConfidence) {
        let byLabel = Dictionary(grouping: candidates.sorted()) { labels[$0] }
        var standIns: [Int] = []
        var (forgetSum, standInSum) = (0.0, 0.0)
        for sample in forget {
            guard let own = unseen.phi[sample] else { return nil }
            let out = own.indices.filter { own[$0] != nil }
            guard !out.isEmpty else { return nil }
            let target = Self.mean(own, over: out)!
            var best: (index: Int, distance: Double, phi: Double)?
            for candidate in byLabel[labels[sample]] ?? [] {
                guard let phi = unseen.phi[candidate].flatMap({ Self.mean($0, over: out) }) else { continue }
                let distance = abs(phi - target)
                if best == nil || distance < best!.distance { best = (candidate, distance, phi) }
            }
            guard let best else { return nil }
            standIns.append(best.index)
            forgetSum += target
            standInSum += best.phi
        }
        self.references = unseen.references
        self.standIns = standIns
        distinct = Set(standIns).count
        forgetMeanPhi = forget.isEmpty ? 0 : forgetSum / Double(forget.count)
        standInMeanPhi = forget.isEmpty ? 0 : standInSum / Double(forget.count)
    }

    /// The mean of `values` at `positions`, nil if any of them is missing.
    static func mean(_ values: [Double?], over positions: [Int]) -> Double? {
        var sum = 0.0
        for position in positions {
            guard let value = values[position] else { return nil }
            sum += value
        }
        return sum / Double(positions.count)
    }

    public var summary: String {
        "held-out stand-ins matched to the forget samples' difficulty under \(references) references (\(standIns.count) forget samples, \(distinct) distinct stand-ins; mean reference φ \(String(format: "%.2f", forgetMeanPhi)) for the forget set, \(String(format: "%.2f", standInMeanPhi)) for the stand-ins)"
    }
}
