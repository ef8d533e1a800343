import ArgumentParser
import Foundation
import Jobs
import Unlearning

/// Tables of many `lethe unlearn` reports: per scenario, one row per method (mean ± standard deviation over
/// seeds), retrain first, with the speed-up over retrain; runs with non-default parameters in their own rows.
/// `lethe audit --format json` outputs among the files add the audit's columns to the run whose model they audited
/// (matched by file name), and their `original` figures to the original's row.
struct SummarizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "summarize", abstract: "Summarise unlearning reports (JSON) as Markdown tables.")

    @Argument(help: "Report files written by `lethe unlearn --report`, and `lethe audit --format json` outputs.")
    var reports: [String]

    func run() throws {
        var runs: [UnlearningReport] = []
        var audits: [AuditSummary] = []
        for path in reports {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            if let audit = try? JSONDecoder().decode(AuditSummary.self, from: data) {
                audits.append(audit)
                continue
            }
            do {
                runs.append(try JSONDecoder.snakeCase.decode(UnlearningReport.self, from: data))
            } catch {
                throw ValidationError("\(path) is neither a lethe unlearn report nor a lethe audit output: \(error)")
            }
        }
        print(ResultsTable.markdown(runs, audits: audits))
    }
}

/// The part of a `lethe audit --format json` output that the tables show (its own key names: decode it with a
/// plain `JSONDecoder`).
struct AuditSummary: Decodable {
    struct Figures: Decodable {
        let auc: Double
        let tprAt1PctFpr: Double

        enum CodingKeys: String, CodingKey {
            case auc
            case tprAt1PctFpr = "tpr_at_1pct_fpr"
        }
    }

    let weights: String
    let figures: Figures
    let original: Figures?

    enum CodingKeys: String, CodingKey { case weights, original }

    /// The audit a report carries itself (`lethe unlearn --references`).
    init(_ run: UnlearningReport, _ audit: AuditVerdict) {
        weights = run.out
        figures = Figures(auc: audit.figures.auc, tprAt1PctFpr: audit.figures.tprAt1pctFpr)
        original = audit.original.map { Figures(auc: $0.auc, tprAt1PctFpr: $0.tprAt1pctFpr) }
    }

    init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        weights = try container.decode(String.self, forKey: .weights)
        original = try container.decodeIfPresent(Figures.self, forKey: .original)
        figures = try Figures(from: decoder)
    }

    /// The audited model's file name, to match a report's `out`.
    var model: String { URL(fileURLWithPath: weights).lastPathComponent }
}

enum ResultsTable {
    struct Row {
        let label: String
        let runs: [UnlearningReport]
    }

    static func markdown(_ runs: [UnlearningReport], audits: [AuditSummary] = []) -> String {
        let auditOf = Dictionary(audits.map { ($0.model, $0) }, uniquingKeysWith: { first, _ in first })
        func audit(_ run: UnlearningReport) -> AuditSummary? {
            auditOf[URL(fileURLWithPath: run.out).lastPathComponent] ?? run.audit.map { AuditSummary(run, $0) }
        }
        var sections: [String] = []
        let classifierRuns = runs.filter { $0.before != nil && $0.after != nil }
        for scenario in Array(Set(classifierRuns.map(\.forget.group))).sorted() {
            let inScenario = classifierRuns.filter { $0.forget.group == scenario }
            let rows = Dictionary(grouping: inScenario, by: label).map { Row(label: $0.key, runs: $0.value) }
                .sorted { order($0.label) < order($1.label) }
            let retrainSeconds = rows.first { $0.label == "retrain" }.map { mean($0.runs.map(\.seconds)) }
            let columns = Columns(inScenario[0].before!)
            // The audit's columns when any run of the scenario was audited: AUC and TPR at 1% FPR.
            let audited = inScenario.contains { audit($0) != nil }
            let auditHeaders = audited ? " audit AUC % | audit TPR@1%FPR % |" : ""
            func auditCells(_ figures: [AuditSummary.Figures?]) -> String {
                guard audited else { return "" }
                let known = figures.compactMap { $0 }
                guard !known.isEmpty else { return " – | – |" }
                return " \(stat(known.map(\.auc))) | \(stat(known.map(\.tprAt1PctFpr))) |"
            }
            var lines = [
                "### Forgetting \(scenario) (\(inScenario[0].forget.forgetSamples) samples)", "",
                "| method | seeds | \(columns.headers.joined(separator: " | ")) |\(auditHeaders) MIA % | AIN | seconds | speed-up |",
                "|---|---|" + String(repeating: "---|", count: columns.headers.count + 4 + (audited ? 2 : 0)),
            ]
            let byOriginal = Dictionary(grouping: inScenario, by: \.inputSha256).values
            let original = byOriginal.map { $0[0].before! }
            let originalAudits = byOriginal.map { group in group.lazy.compactMap { audit($0)?.original }.first }
            lines.append(
                "| *original* | \(original.count) | \(columns.cells(original)) |\(auditCells(originalAudits)) \(stat(original.map(\.mia))) | – | – | – |"
            )
            for row in rows {
                let after = row.runs.map { $0.after! }
                let seconds = mean(row.runs.map(\.seconds))
                let speedUp = retrainSeconds.map { String(format: "%.1f×", $0 / seconds) } ?? "–"
                let indices = row.runs.compactMap(\.anamnesis?.index)
                let ain = indices.isEmpty ? "–" : String(format: "%.2f", mean(indices))
                lines.append(
                    "| \(row.label) | \(row.runs.count) | \(columns.cells(after)) |\(auditCells(row.runs.map { audit($0)?.figures })) \(stat(after.map(\.mia))) | \(ain) | \(String(format: "%.1f", seconds)) | \(speedUp) |"
                )
            }
            sections.append(lines.joined(separator: "\n"))
        }
        sections += RegressionResultsTable.markdown(runs.filter { $0.regression != nil })
        return sections.joined(separator: "\n\n")
    }

    /// A scenario's own columns: accuracy on the forgotten classes and the rest (classes), on the forget, retain
    /// and test sets (samples), and the test A→B and B→A mistakes (the confusion scenario).
    struct Columns {
        let headers: [String]
        let cells: ([VerificationReport]) -> String

        init(_ example: VerificationReport) {
            if let confusion = example.confusion {
                let (a, b) = (confusion.classes[0], confusion.classes[1])
                headers = ["forget acc. % (given labels)", "test acc. %", "test \(a)→\(b)", "test \(b)→\(a)"]
                cells = { reports in
                    let counts = reports.compactMap(\.confusion)
                    return [
                        stat(reports.map(\.forgetAccuracy)), stat(reports.map(\.testAccuracy)),
                        count(counts.map(\.aPredictedAsB)), count(counts.map(\.bPredictedAsA)),
                    ].joined(separator: " | ")
                }
            } else if example.testForgetAccuracy != nil {
                headers = ["T_f test, forgotten %", "T_r test, other %", "forget acc. %"]
                cells = { reports in
                    [
                        stat(reports.map { $0.testForgetAccuracy ?? 0 }),
                        stat(reports.map { $0.testRetainAccuracy ?? 0 }),
                        stat(reports.map(\.forgetAccuracy)),
                    ].joined(separator: " | ")
                }
            } else {
                headers = ["forget acc. %", "retain acc. %", "test acc. %"]
                cells = { reports in
                    [
                        stat(reports.map(\.forgetAccuracy)), stat(reports.map(\.retainAccuracy)),
                        stat(reports.map(\.testAccuracy)),
                    ]
                    .joined(separator: " | ")
                }
            }
        }
    }

    /// The method, with every parameter that differs from its default, and "(stand-ins)" when references chose
    /// difficulty-matched held-out samples for its targets.
    static func label(_ run: UnlearningReport) -> String {
        guard let method = UnlearningMethods.named(run.method) else { return run.method }
        // keep-failed decides only whether a missed run's model is written and verify-retain how much of the
        // retain set its verification predicts, not the model: not variants.
        let changed = method.allParameters.filter {
            !["keep-failed", "verify-retain"].contains($0.key) && run.params[$0.key] != nil
                && run.params[$0.key] != $0.defaultValue
        }
        let standIns = run.difficultyMatch == nil ? [] : ["(stand-ins)"]
        return ([run.method] + changed.map { "\($0.key)=\(run.params[$0.key]!)" } + standIns).joined(separator: " ")
    }

    /// Retrain first, then the methods in `lethe methods` order, variants after their default.
    static func order(_ label: String) -> (Int, String) {
        let name = String(label.split(separator: " ")[0])
        return (UnlearningMethods.all.firstIndex { $0.name == name } ?? Int.max, label)
    }

    static func mean(_ values: [Double]) -> Double { values.reduce(0, +) / Double(max(values.count, 1)) }

    /// A mean count (one decimal when it is not whole).
    static func count(_ values: [Int]) -> String {
        let (total, runs) = (values.reduce(0, +), max(values.count, 1))
        return total % runs == 0 ? String(total / runs) : String(format: "%.1f", Double(total) / Double(runs))
    }

    /// "mean ± sd" in percent.
    static func stat(_ values: [Double]) -> String {
        let average = mean(values)
        guard values.count > 1 else { return String(format: "%.1f", 100 * average) }
        let variance = values.reduce(0) { $0 + ($1 - average) * ($1 - average) } / Double(values.count - 1)
        return String(format: "%.1f ± %.1f", 100 * average, 100 * variance.squareRoot())
    }
}
