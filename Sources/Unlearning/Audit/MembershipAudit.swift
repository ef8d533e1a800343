/// The per-example membership audit's figures for one model: how well LiRA tells the audited positives (the
/// forget set) from negatives (held-out samples), and which positives it still recognises.
public struct AuditFigures: Sendable, Equatable, Codable {
    /// ROC AUC of the headline (offline) test, a fraction.
    public let auc: Double
    public let tprAt1pctFpr: Double
    public let tprAt01pctFpr: Double
    /// The same for the online likelihood ratio, when the references allow one.
    public let onlineAuc: Double?
    public let onlineTprAt1pctFpr: Double?
    /// Positions (into the positives) the offline test calls members at 1% FPR, ascending (their training
    /// indices after `flagged(as:)`).
    public let flaggedAt1pctFpr: [Int]
    /// The offline score at and above which a sample is called a member at 1% FPR (nil: nobody is).
    public let thresholdAt1pctFpr: Double?
    public let positives: Int
    public let negatives: Int

    /// Fractions, named as in reports (`tpr_at_1pct_fpr`); also what `JSONEncoder`'s snake case leaves alone.
    enum CodingKeys: String, CodingKey {
        case auc, positives, negatives
        case tprAt1pctFpr = "tpr_at_1pct_fpr"
        case tprAt01pctFpr = "tpr_at_0_1pct_fpr"
        case onlineAuc = "online_auc"
        case onlineTprAt1pctFpr = "online_tpr_at_1pct_fpr"
        case flaggedAt1pctFpr = "flagged_at_1pct_fpr"
        case thresholdAt1pctFpr = "threshold_at_1pct_fpr"
    }
}

extension AuditFigures {
    /// Reads the report's names, also through `JSONDecoder`'s `convertFromSnakeCase` (which `lethe summarize`
    /// and the coordinator use on whole reports): it turns `tpr_at_1pct_fpr` into `tprAt1pctFpr` before matching,
    /// and no explicit name matches that.
    public init(from decoder: Decoder) throws {
        let named = try decoder.container(keyedBy: CodingKeys.self)
        if named.contains(.tprAt1pctFpr) {
            try self.init(named) { $0 }
        } else {
            let converted = try decoder.container(keyedBy: ConvertedKey.self)
            let present = Dictionary(
                converted.allKeys.map { (ConvertedKey.fold($0.stringValue), $0) },
                uniquingKeysWith: { first, _ in first })
            try self.init(converted) {
                present[ConvertedKey.fold($0.rawValue)] ?? ConvertedKey(stringValue: $0.rawValue)!
            }
        }
    }

    private init<Key: CodingKey>(_ container: KeyedDecodingContainer<Key>, _ key: (CodingKeys) -> Key) throws {
        self.init(
            auc: try container.decode(Double.self, forKey: key(.auc)),
            tprAt1pctFpr: try container.decode(Double.self, forKey: key(.tprAt1pctFpr)),
            tprAt01pctFpr: try container.decode(Double.self, forKey: key(.tprAt01pctFpr)),
            onlineAuc: try container.decodeIfPresent(Double.self, forKey: key(.onlineAuc)),
            onlineTprAt1pctFpr: try container.decodeIfPresent(Double.self, forKey: key(.onlineTprAt1pctFpr)),
            flaggedAt1pctFpr: try container.decode([Int].self, forKey: key(.flaggedAt1pctFpr)),
            thresholdAt1pctFpr: try container.decodeIfPresent(Double.self, forKey: key(.thresholdAt1pctFpr)),
            positives: try container.decode(Int.self, forKey: key(.positives)),
            negatives: try container.decode(Int.self, forKey: key(.negatives)))
    }

    /// A report name as `convertFromSnakeCase` left it (`tprAt1pctFpr` or `tprAt1PctFpr`, depending on how the
    /// Foundation at hand capitalises "1pct"), found by its letters and digits.
    private struct ConvertedKey: CodingKey {
        let stringValue: String
        var intValue: Int? { nil }

        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }

        static func fold(_ name: String) -> String { name.filter { $0 != "_" }.lowercased() }
    }
}

/// LiRA with shared reference models: fits each audited sample's Gaussians from the references once, then
/// scores any number of models (the unlearned one, the original, a retrain) against them.
public struct MembershipAudit: Sendable {
    public let outFit: PooledGaussians
    public let inFit: PooledGaussians
    /// How many of the audited samples are positives: samples `0..<positives` are, the rest are negatives.
    public let positives: Int

    /// `referencePhi[i][k]`: sample i's φ under reference k; `isIn[i][k]`: whether reference k trained on it.
    /// Rows `0..<positives` are the positives.
    public init(referencePhi: [[Double]], isIn: [[Bool]], positives: Int) {
        precondition((0...referencePhi.count).contains(positives), "positives must be among the audited samples")
        (outFit, inFit) = MembershipScores.fits(referencePhi: referencePhi, isIn: isIn)
        self.positives = positives
    }

    /// Both tests' scores of a model whose φ on the audited samples (same order) is `phi`.
    public func scores(phi: [Double]) -> MembershipScores {
        MembershipScores(phi: phi, outFit: outFit, inFit: inFit)
    }

    /// The figures for a model's scores.
    public func figures(_ scores: MembershipScores) -> AuditFigures {
        let curve = rocCurve(scores.offline)
        let point = curve.operatingPoint(atFalsePositiveRate: 0.01)
        let flagged = scores.offline.prefix(positives).indices.filter { scores.offline[$0] >= point.threshold }
        let online = scores.online.map(rocCurve)
        return AuditFigures(
            auc: curve.area, tprAt1pctFpr: point.truePositiveRate,
            tprAt01pctFpr: curve.truePositiveRate(atFalsePositiveRate: 0.001), onlineAuc: online?.area,
            onlineTprAt1pctFpr: online?.truePositiveRate(atFalsePositiveRate: 0.01), flaggedAt1pctFpr: flagged,
            thresholdAt1pctFpr: point.threshold.isFinite ? point.threshold : nil, positives: positives,
            negatives: outFit.means.count - positives)
    }

    private func rocCurve(_ scores: [Double]) -> ROCCurve {
        ROCCurve(positives: Array(scores.prefix(positives)), negatives: Array(scores.dropFirst(positives)))
    }
}

extension AuditFigures {
    /// The same figures with each flagged position replaced by `indices[position]` (e.g. the training index of
    /// each positive), so every model's flagged list in a report names samples the same way.
    public func flagged(as indices: [Int]) -> AuditFigures {
        AuditFigures(
            auc: auc, tprAt1pctFpr: tprAt1pctFpr, tprAt01pctFpr: tprAt01pctFpr, onlineAuc: onlineAuc,
            onlineTprAt1pctFpr: onlineTprAt1pctFpr, flaggedAt1pctFpr: flaggedAt1pctFpr.map { indices[$0] },
            thresholdAt1pctFpr: thresholdAt1pctFpr, positives: positives, negatives: negatives)
    }
}
