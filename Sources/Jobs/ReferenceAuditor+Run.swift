import NN
import Unlearning

/// What an unlearning run with references does with them, wherever it runs (`lethe unlearn --references`, or a
/// coordinator's job with references): the difficulty match before the method, the audit of its result after.
extension ReferenceAuditor {
    /// For listed or random samples: what the references say about the forget samples and the held-out ones of
    /// the run's scenario (`run`, with its holdout), so that targets and calibrations use held-out stand-ins as hard
    /// as the forget samples (`DifficultyMatch`); nil for classes and mislabelled data.
    public func unseenConfidence(for run: Scenario, build: () -> Model) throws -> UnseenConfidence? {
        switch run.forgetSet.selection {
        case .fraction, .indices:
            return try unseenConfidence(on: run.train, indices: run.forgetSet.forget + run.validation, build: build)
        case .classes, .confusion, .targetRange: return nil
        }
    }

    /// The membership audit of `student` (written to `out`), with the original (this audit's scenario's model,
    /// from `original`) and the retrain, when there is one, for comparison: the verdict a report is judged by.
    public func verdict(
        of student: Model, out: String, original: String, retrain: (name: String, model: Model)?
    ) throws -> AuditVerdict {
        var models: [(name: String, path: String, model: Model)] = [
            ("audited", out, student), ("original", original, scenario.model),
        ]
        if let retrain { models.append(("retrain", retrain.name, retrain.model)) }
        let (report, rows) = try report(weights: out, models: models, scoresFile: nil)
        return AuditVerdict(
            references: references.name, referenceCount: report.referenceCount, figures: report.figures,
            original: report.original, retrain: report.retrain, histogram: rows.first?.histogram)
    }
}
