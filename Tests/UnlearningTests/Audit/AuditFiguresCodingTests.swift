import Foundation
import Testing

@testable import Unlearning

/// Audit figures keep their report names (`tpr_at_1pct_fpr`) and read back whether or not the decoder converts
/// snake case (reports are read both ways).
struct AuditFiguresCodingTests {
    let figures = AuditFigures(
        auc: 0.55, tprAt1pctFpr: 0.03, tprAt01pctFpr: 0.005, onlineAuc: 0.56, onlineTprAt1pctFpr: nil,
        flaggedAt1pctFpr: [2, 7], thresholdAt1pctFpr: 1.5, positives: 600, negatives: 600)

    @Test func reportNamesRoundTripThroughPlainAndSnakeCaseCoders() throws {
        let snake = JSONEncoder()
        snake.keyEncodingStrategy = .convertToSnakeCase
        for encoder in [JSONEncoder(), snake] {
            let data = try encoder.encode(figures)
            let text = String(decoding: data, as: UTF8.self)
            #expect(text.contains("\"tpr_at_1pct_fpr\"") && text.contains("\"tpr_at_0_1pct_fpr\""), "\(text)")
            let converting = JSONDecoder()
            converting.keyDecodingStrategy = .convertFromSnakeCase
            #expect(try JSONDecoder().decode(AuditFigures.self, from: data) == figures)
            #expect(try converting.decode(AuditFigures.self, from: data) == figures)
        }
    }
}
