import Testing

@testable import Unlearning

/// ROC points, AUC with ties, TPR at a false-positive budget and the flagged samples, on examples worked by hand.
struct ROCCurveTests {
    func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) <= 1e-12 }

    @Test func pointsAndAreaOfATinyExampleWithATie() {
        // Sorted: .9P .8P .7N (.4P .4N tied) .1N .0N.
        let curve = ROCCurve(positives: [0.9, 0.8, 0.4], negatives: [0.7, 0.4, 0.1, 0.0])
        let expected: [(Double, Double)] = [(0, 0), (0, 1 / 3), (0, 2 / 3), (0.25, 2 / 3), (0.5, 1), (0.75, 1), (1, 1)]
        #expect(curve.points.count == expected.count)
        for (point, (fpr, tpr)) in zip(curve.points, expected) {
            #expect(close(point.falsePositiveRate, fpr) && close(point.truePositiveRate, tpr), "\(point)")
        }
        // Mann–Whitney: (4 + 4 + 2 + ½) / 12 pairs.
        #expect(close(curve.area, 10.5 / 12))
        #expect(close(curve.truePositiveRate(atFalsePositiveRate: 0.01), 2 / 3))
        #expect(curve.operatingPoint(atFalsePositiveRate: 0.01).threshold == 0.8)
        #expect(close(curve.truePositiveRate(atFalsePositiveRate: 0.3), 2 / 3))  // no interpolation
        #expect(close(curve.truePositiveRate(atFalsePositiveRate: 0.5), 1))
    }

    @Test func identicalScoresCannotBeToldApart() {
        let curve = ROCCurve(positives: [1, 1, 1], negatives: [1, 1])
        #expect(close(curve.area, 0.5))
        #expect(curve.truePositiveRate(atFalsePositiveRate: 0.01) == 0)
        #expect(close(ROCCurve(positives: [], negatives: [1]).area, 0.5))
        #expect(close(ROCCurve(positives: [.nan, 2], negatives: [1]).area, 0.5))  // NaN is least member-like
    }

    @Test func auditFlagsThePositivesAboveTheOnePercentThreshold() {
        // 200 negatives at 0…199 (by 1) → at 1% FPR two may score ≥ the threshold (198, 199); positives at 250,
        // 198.5 and 10: the first two are flagged, TPR 2/3.
        let negatives = (0..<200).map(Double.init)
        let positives: [Double] = [250, 198.5, 10]
        let rows = positives.count + negatives.count
        let audit = MembershipAudit(
            referencePhi: [[Double]](repeating: [0, 0], count: rows),
            isIn: [[Bool]](repeating: [false, true], count: rows), positives: positives.count)
        // OUT fits: every mean 0 and variance floored, so the offline score is φ / σ: the order of φ.
        let figures = audit.figures(audit.scores(phi: positives + negatives))
        #expect(figures.flaggedAt1pctFpr == [0, 1])
        #expect(close(figures.tprAt1pctFpr, 2.0 / 3))
        #expect(close(figures.tprAt01pctFpr, 1.0 / 3))  // 0.1% of 200: no false positive allowed
        #expect(figures.positives == 3 && figures.negatives == 200)
        // 250 beats all 200 negatives, 198.5 beats 0…198, 10 beats 0…9 and ties with 10.
        #expect(close(figures.auc, (200 + 199 + 10.5) / 600.0))
    }
}
