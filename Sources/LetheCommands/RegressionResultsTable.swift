import Foundation
import Jobs
import Unlearning

/// `lethe summarize` for regression runs: per forget selection, the original's and each method's L1 on the
/// forget, retain and test sets (mean ± sd over seeds), the forget L1 against the retrain's, the attack, relearn time
/// (AIN, against the retrain) and time.
enum RegressionResultsTable {
    static func markdown(_ runs: [UnlearningReport]) -> [String] {
        var sections: [String] = []
        for scenario in Array(Set(runs.map(\.forget.group))).sorted() {
            let inScenario = runs.filter { $0.forget.group == scenario }
            let rows = Dictionary(grouping: inScenario, by: ResultsTable.label).sorted {
                ResultsTable.order($0.key) < ResultsTable.order($1.key)
            }
            let retrainSeconds = rows.first { $0.key == "retrain" }.map { ResultsTable.mean($0.value.map(\.seconds)) }
            var lines = [
                "### Forgetting \(scenario) (\(inScenario[0].forget.forgetSamples) samples, regression)", "",
                "| method | seeds | forget L1 | retain L1 | test L1 | forget L1 / retrain's | MIA % | AIN | verdict | seconds | speed-up |",
                "|---|---|---|---|---|---|---|---|---|---|---|",
            ]
            let originals = Dictionary(grouping: inScenario, by: \.inputSha256).values.map { $0[0].regression!.before }
            lines.append(
                "| *original* | \(originals.count) | \(l1(originals.map(\.forget))) | \(l1(originals.map(\.retain))) | \(l1(originals.map(\.test))) | – | \(ResultsTable.stat(originals.map(\.mia))) | – | – | – | – |"
            )
            for (label, group) in rows {
                // The verdict is recomputed from the measured figures, so every row is judged by today's rule.
                let comparisons = group.map { run in
                    let measured = run.regression!
                    return RegressionComparison(
                        before: measured.before, after: measured.after, reference: measured.reference,
                        tolerance: measured.tolerance, maxRise: measured.maxRise)
                }
                let after = comparisons.map(\.after)
                let ratios = comparisons.compactMap { c in c.reference.map { c.after.forget.l1 / $0.forget.l1 } }
                let ratio = ratios.isEmpty ? "–" : String(format: "%.2f", ResultsTable.mean(ratios))
                let passed = comparisons.filter { $0.passed == true }.count
                let judged = comparisons.filter { $0.passed != nil }.count
                let seconds = ResultsTable.mean(group.map(\.seconds))
                let speedUp = retrainSeconds.map { String(format: "%.1f×", $0 / seconds) } ?? "–"
                let indices = group.compactMap(\.anamnesis?.index)
                let ain = indices.isEmpty ? "–" : String(format: "%.2f", ResultsTable.mean(indices))
                lines.append(
                    "| \(label) | \(group.count) | \(l1(after.map(\.forget))) | \(l1(after.map(\.retain))) | \(l1(after.map(\.test))) | \(ratio) | \(ResultsTable.stat(after.map(\.mia))) | \(ain) | \(label == "retrain" ? "(the reference)" : judged == 0 ? "not judged" : "\(passed)/\(judged) passed") | \(String(format: "%.1f", seconds)) | \(speedUp) |"
                )
            }
            sections.append(lines.joined(separator: "\n"))
        }
        return sections
    }

    /// "mean ± sd" of L1 errors, four decimals.
    static func l1(_ figures: [RegressionFigures]) -> String {
        let values = figures.map(\.l1)
        let average = ResultsTable.mean(values)
        guard values.count > 1 else { return String(format: "%.4f", average) }
        let variance = values.reduce(0) { $0 + ($1 - average) * ($1 - average) } / Double(values.count - 1)
        return String(format: "%.4f ± %.4f", average, variance.squareRoot())
    }
}
