import Foundation
import Unlearning

/// One self-contained HTML page for people: what was forgotten, the metrics before and after, per-class test
/// accuracy as a bar chart and the loss curve of every phase (inline SVG, no scripts, no downloads).
public enum HTMLReport {
    public static func render(_ report: UnlearningReport) -> String {
        let forgotten = Set(report.forget.classes ?? [])
        return page(
            title: "Lethe: \(report.method) forgetting \(report.forget.selection)",
            body: """
                <h1>\(escape(report.method)) \(escape(report.outcome)) \(escape(report.forget.selection))</h1>
                \(verdict(report))
                <p>Model <b>\(escape(report.model))</b> from <code>\(escape(report.weights))</code>:
                \(report.forget.forgetSamples) samples forgotten, \(report.forget.retainSamples) retained,
                \(report.forget.validationSamples) held out for validation. The method took
                <b>\(String(format: "%.1f", report.seconds)) s</b> and read \(report.dataTouched.forget) forget,
                \(report.dataTouched.retain) retain and \(report.dataTouched.validation) validation samples.
                Seed \(report.seed), \(report.shards) logical shard(s).</p>
                <p class="muted">Parameters: \(escape(report.params.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")))<br>
                Output <code>\(escape(report.out))</code>, sha256 <code>\(report.outputSha256)</code></p>
                \(choices(report))
                \(report.holdout.map { "<p class=\"muted\">\(escape($0.summary)).</p>" } ?? "")
                \(report.after?.retainSampleSummary.map { "<p class=\"muted\">\(escape($0)).</p>" } ?? "")
                \(report.preprocessing.map { "<p\($0.note == nil ? " class=\"muted\"" : " class=\"bad\"")>Inputs: \(escape($0.summary)).</p>" } ?? "")
                \(report.certificate.map(certificateLine) ?? "")
                <h2>Metrics</h2>
                \(classificationMetrics(report, forgotten: forgotten) ?? report.regression.map { regressionTable($0, anamnesis: report.anamnesis) } ?? "")
                <h2>Loss per step</h2>
                \(report.phases.filter { !$0.losses.isEmpty }.map(lossCurve).joined(separator: "\n"))
                """)
    }

    /// The membership audit: how many forget samples remain distinguishable, against the original and the retrain.
    static func auditSection(_ audit: AuditVerdict) -> String {
        let rows = [("unlearned", audit.figures), ("original", audit.original), ("retrain", audit.retrain)]
            .compactMap { name, figures in
                figures.map {
                    String(
                        format: "<tr><td>%@</td><td>%.3f</td><td>%.1f%%</td><td>%d of %d</td></tr>", name, $0.auc,
                        100 * $0.tprAt1pctFpr, $0.flaggedAt1pctFpr.count, $0.positives)
                }
            }.joined()
        return """
            <h2>Membership audit</h2>
            <p\(audit.exposed ? " class=\"bad\"" : "")>\(escape(audit.summary)).</p>
            <table><tr><th>model</th><th>AUC</th><th>TPR at 1% FPR</th><th>flagged forget samples</th></tr>\(rows)</table>
            \(audit.histogram.map { scoreHistogram($0, threshold: audit.figures.thresholdAt1pctFpr) } ?? "")
            <p class="muted">LiRA (offline) against \(audit.referenceCount) reference models in
            <code>\(escape(audit.references))</code>; forget samples against as many held-out test samples.</p>
            """
    }

    /// The unlearned model's audit scores as bars (held-out samples grey, forget samples red, side by side per bin)
    /// with the 1% FPR threshold; a forgotten set's bars lie on the held-out ones.
    static func scoreHistogram(_ histogram: ScoreHistogram, threshold: Double?) -> String {
        let (width, height, bins) = (600.0, 160.0, histogram.forget.count)
        let total = (forget: max(histogram.forget.reduce(0, +), 1), heldOut: max(histogram.heldOut.reduce(0, +), 1))
        // Shares of each side, so unequal counts compare.
        let top = max(
            histogram.forget.map { Double($0) / Double(total.forget) }.max() ?? 0,
            histogram.heldOut.map { Double($0) / Double(total.heldOut) }.max() ?? 0, 1e-9)
        let step = width / Double(bins)
        var bars = ""
        for bin in 0..<bins {
            for (offset, count, total, kind) in [
                (0.0, histogram.heldOut[bin], total.heldOut, "before"),
                (0.5, histogram.forget[bin], total.forget, "forgotten"),
            ] {
                let barHeight = height * Double(count) / Double(total) / top
                bars += String(
                    format: "<rect class=\"%@\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"></rect>", kind,
                    Double(bin) * step + offset * step, height - barHeight, step / 2 - 1, barHeight)
            }
        }
        let (low, high) = (histogram.edges.first ?? 0, histogram.edges.last ?? 1)
        let line =
            threshold.map { threshold -> String in
                let x = width * (threshold - low) / max(high - low, 1e-9)
                return String(
                    format:
                        "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"0\" y2=\"%.0f\" stroke=\"#222\" stroke-dasharray=\"4\"></line>",
                    x, x, height)
            } ?? ""
        return """
            <svg width="\(Int(width))" height="\(Int(height) + 20)" role="img" aria-label="audit score histogram">\(bars)\(line)
            <text x="0" y="\(Int(height) + 15)">\(String(format: "%.1f", low))</text>
            <text x="\(Int(width) - 30)" y="\(Int(height) + 15)">\(String(format: "%.1f", high))</text></svg>
            <p class="muted">Offline audit scores of the unlearned model: held-out samples grey, forget samples red
            (shares of each); dashed: the 1% FPR threshold. Samples to its right are flagged.</p>
            """
    }

    /// The retained classes more than 3 points below the original (and the retrain, if given): per-class fidelity.
    static func damagedClasses(_ report: UnlearningReport) -> String {
        let damaged = (report.perClass ?? []).filter(\.flagged)
        guard !damaged.isEmpty else { return "" }
        return
            "<p><b>Retained classes more than \(Int(100 * ClassFidelity.flagThreshold)) points below \(ClassFidelity.judgedAgainst(damaged)):</b> "
            + escape(ClassFidelity.flaggedSummary(damaged)) + ".</p>"
    }

    /// The verdict: the forget target and budgets the run was judged by, and every target it missed.
    public static func verdict(_ report: UnlearningReport) -> String {
        guard let verdict = report.verdict else { return "" }
        if verdict.isReference == true {
            return "<p class=\"muted\">The retrain is the reference other runs are judged against: not judged.</p>"
        }
        let target =
            verdict.forgetTarget.map {
                String(
                    format: "forget accuracy %.1f%% against a target of %.1f%%%@ (%@)", 100 * verdict.forgetAccuracy,
                    100 * $0.accuracy, $0.tolerance > 0 ? String(format: " + %.1f", 100 * $0.tolerance) : "", $0.source)
            } ?? "no forget target (no held-out samples like the forget set), so forgetting was not judged"
        let budgets = String(
            format: "retain accuracy %+.1f points (budget −%.1f), test %+.1f points (budget −%.1f)",
            -100 * verdict.retainDrop, 100 * verdict.maxRetainDrop, -100 * verdict.testDrop, 100 * verdict.maxTestDrop)
        let misses = verdict.misses.map { "<li>\(escape($0))</li>" }.joined()
        return verdict.passed
            ? "<p><b>Passed:</b> \(escape(target)); \(escape(budgets)).</p>"
            : """
            <p style="color:#b00"><b>Failed:</b> \(escape(target)); \(escape(budgets)).</p><ul>\(misses)</ul>
            \(verdict.hint.map { "<p>Hint: \(escape($0)).</p>" } ?? "")
            """
    }

    /// What the method chose while it ran (`scrub+r`'s epoch, `ssd`'s α) and what steered it, if anything.
    public static func choices(_ report: UnlearningReport) -> String {
        let made = [
            report.chosenEpoch.map { "Rewound to epoch \($0)." }, report.chosenAlpha.map { "\($0.summary)." },
            report.leakGuard.map { "\($0.summary)." },
            report.difficultyMatch.map { "Targets measured on \($0.summary)." },
        ]
        return made.compactMap { $0 }.map { "<p>\(escape($0))</p>" }.joined()
    }

    /// A self-contained page: the shared style, `title` and `body`.
    public static func page(title: String, body: String) -> String {
        """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8">
        <title>\(escape(title))</title>
        <style>
        body { font: 15px/1.5 system-ui, sans-serif; max-width: 960px; margin: 2em auto; color: #222; padding: 0 1em; }
        h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 2em; }
        table { border-collapse: collapse; } td, th { padding: .25em .8em; text-align: right; border-bottom: 1px solid #ddd; }
        th:first-child, td:first-child { text-align: left; }
        .before { fill: #9aa5b1; } .after { fill: #1f6feb; } .forgotten { fill: #d1242f; }
        .muted { color: #666; } .bad { color: #d1242f; } svg text { font: 11px system-ui, sans-serif; fill: #444; }
        </style></head><body>
        \(body)
        </body></html>
        """
    }

    /// The metrics, audit and per-class chart of a classifier's report (nil for a regression model's).
    static func classificationMetrics(_ report: UnlearningReport, forgotten: Set<Int>) -> String? {
        guard let before = report.before, let after = report.after else { return nil }
        return """
            \(metricsTable(report))
            \(report.audit.map(auditSection) ?? "")
            <h2>Test accuracy per class</h2>
            <p class="muted">Grey: before; blue: after; red: after, for a forgotten class.</p>
            \(perClassChart(before: before.perClassAccuracy, after: after.perClassAccuracy, forgotten: forgotten))
            \(damagedClasses(report))
            """
    }

    /// A regression model's L1 and MSE on each set before, after and in the retrain, the attack and the verdict.
    static func regressionTable(_ comparison: RegressionComparison, anamnesis: Anamnesis?) -> String {
        func cell(_ value: Double?) -> String { value.map { String(format: "%.4f", $0) } ?? "–" }
        var rows: [(String, Double, Double, Double?)] = []
        let sets: [(String, KeyPath<RegressionEvaluation, RegressionFigures>)] = [
            ("Forget set", \.forget), ("Retain set", \.retain), ("Test set", \.test),
        ]
        for (name, path) in sets {
            rows.append(
                (
                    "\(name) L1", comparison.before[keyPath: path].l1, comparison.after[keyPath: path].l1,
                    comparison.reference?[keyPath: path].l1
                ))
            rows.append(
                (
                    "\(name) MSE", comparison.before[keyPath: path].mse, comparison.after[keyPath: path].mse,
                    comparison.reference?[keyPath: path].mse
                ))
        }
        rows.append(
            (
                "MIA: forget samples called members", comparison.before.mia, comparison.after.mia,
                comparison.reference?.mia
            ))
        let body = rows.map {
            "<tr><td>\(escape($0.0))</td><td>\(cell($0.1))</td><td>\(cell($0.2))</td><td>\(cell($0.3))</td></tr>"
        }
        .joined(separator: "\n")
        let verdict =
            comparison.reference == nil
            ? "<p class=\"muted\">No retrain (--reference) to compare with: forgetting was not judged.</p>"
            : "<p class=\"\(comparison.passed == true ? "good" : "bad")\">Forget-set L1 target: the retrain's \(cell(comparison.reference?.forget.l1)) ± \(Int(100 * comparison.tolerance))%: \(comparison.passed == true ? "reached" : "missed").</p>"
        return """
            <table><tr><th></th><th>before</th><th>after</th><th>retrain</th></tr>
            \(body)
            </table>
            \(verdict)
            \(comparison.misses.map { "<p class=\"bad\">Missed: \(escape($0))</p>" }.joined(separator: "\n"))
            \(anamnesis.map { "<p>Relearn steps to the original's forget-set L1: \($0.describe($0.steps)) (retrain \($0.describe($0.referenceSteps))); AIN \(String(format: "%.2f", $0.index)) (≈ 1 is ideal).</p>" } ?? "")
            """
    }

    public static func metricsTable(_ report: UnlearningReport) -> String {
        func percent(_ value: Double?) -> String { value.map { String(format: "%.2f%%", 100 * $0) } ?? "–" }
        guard let before = report.before, let after = report.after else { return "" }
        var rows: [(String, String, String)] = [
            ("Forget-set accuracy", percent(before.forgetAccuracy), percent(after.forgetAccuracy)),
            (
                after.retainPopulation == nil ? "Retain-set accuracy" : "Retain-set accuracy (sampled)",
                percent(before.retainAccuracy), percent(after.retainAccuracy)
            ),
            ("Test accuracy", percent(before.testAccuracy), percent(after.testAccuracy)),
        ]
        if before.testForgetAccuracy != nil {
            rows.append(
                (
                    "Test accuracy, forgotten classes", percent(before.testForgetAccuracy),
                    percent(after.testForgetAccuracy)
                ))
            rows.append(
                ("Test accuracy, other classes", percent(before.testRetainAccuracy), percent(after.testRetainAccuracy)))
        }
        if before.validationAccuracy != nil {
            rows.append(
                (
                    "Validation accuracy (for tuning)", percent(before.validationAccuracy),
                    percent(after.validationAccuracy)
                ))
        }
        if before.validationForgetAccuracy != nil {
            rows.append(
                (
                    "Validation accuracy, forgotten classes", percent(before.validationForgetAccuracy),
                    percent(after.validationForgetAccuracy)
                ))
            rows.append(
                (
                    "Validation accuracy, other classes", percent(before.validationRetainAccuracy),
                    percent(after.validationRetainAccuracy)
                ))
        }
        if let b = before.confusion, let a = after.confusion {
            rows.append(
                ("Test \(b.classes[0]) predicted as \(b.classes[1])", "\(b.aPredictedAsB)", "\(a.aPredictedAsB)"))
            rows.append(
                ("Test \(b.classes[1]) predicted as \(b.classes[0])", "\(b.bPredictedAsA)", "\(a.bPredictedAsA)"))
        }
        rows += [
            ("Membership inference (loss; ≈50% = cannot tell)", percent(before.mia), percent(after.mia)),
            ("Membership inference (entropy)", percent(before.miaEntropy), percent(after.miaEntropy)),
            ("ZRF (1 − JS to a random model)", String(format: "%.4f", before.zrf), String(format: "%.4f", after.zrf)),
        ]
        if let distance = after.activationDistance, let js = after.jsDivergence {
            rows.append(
                (
                    "Activation distance to reference",
                    before.activationDistance.map { String(format: "%.4f", $0) } ?? "–",
                    String(format: "%.4f", distance)
                ))
            rows.append(
                (
                    "JS divergence to reference", before.jsDivergence.map { String(format: "%.4f", $0) } ?? "–",
                    String(format: "%.4f", js)
                ))
        }
        if let anamnesis = report.anamnesis {
            rows.append(
                (
                    "Relearn steps (reference \(anamnesis.describe(anamnesis.referenceSteps))); AIN ≈ 1 is ideal", "–",
                    "\(anamnesis.describe(anamnesis.steps)); AIN \(String(format: "%.2f", anamnesis.index))"
                ))
        }
        let body = rows.map { "<tr><td>\(escape($0.0))</td><td>\($0.1)</td><td>\($0.2)</td></tr>" }.joined()
        return "<table><tr><th>Metric</th><th>Before</th><th>After</th></tr>\(body)</table>"
    }

    public static func perClassChart(before: [Double?], after: [Double?], forgotten: Set<Int>) -> String {
        let (width, height, top, bottom) = (40 * max(before.count, 1) + 40, 220, 10, 30)
        let plot = Double(height - top - bottom)
        var bars = ""
        for label in before.indices {
            let x = 40 + label * 40
            for (offset, value, style) in [
                (4, before[label], "before"),
                (20, label < after.count ? after[label] : nil, forgotten.contains(label) ? "forgotten" : "after"),
            ] {
                let barHeight = plot * (value ?? 0)
                bars += String(
                    format:
                        "<rect class=\"%@\" x=\"%d\" y=\"%.1f\" width=\"14\" height=\"%.1f\"><title>class %d: %.2f%%</title></rect>",
                    style, x + offset, Double(top) + plot - barHeight, barHeight, label, 100 * (value ?? 0))
            }
            bars += "<text x=\"\(x + 12)\" y=\"\(height - 12)\">\(label)</text>"
        }
        let axis = [0, 50, 100].map { tick in
            let y = Double(top) + plot * (1 - Double(tick) / 100)
            return String(
                format:
                    "<text x=\"2\" y=\"%.1f\">%d%%</text><line x1=\"36\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/>",
                y + 4, tick, width, y, y)
        }.joined()
        return
            "<svg width=\"\(width)\" height=\"\(height)\" role=\"img\" aria-label=\"per-class accuracy\">\(axis)\(bars)</svg>"
    }

    public static func lossCurve(_ phase: PhaseLog) -> String {
        let stopped =
            phase.steps < phase.plannedSteps ? " (stopped after \(phase.steps) of \(phase.plannedSteps) steps)" : ""
        return curve(
            title: phase.name + stopped, values: phase.losses,
            caption:
                "\(phase.steps) steps, \(phase.losses.count) loss values, \(String(format: "%.1f", phase.seconds)) s")
    }

    /// A line chart of `values` (one point per step or round) with its range and a caption.
    public static func curve(title: String, values: [Double], caption: String) -> String {
        let (width, height, margin) = (640.0, 140.0, 30.0)
        guard let low = values.min(), let high = values.max() else { return "" }
        let span = high > low ? high - low : 1
        let points = values.enumerated().map { step, value in
            let x = margin + (width - 2 * margin) * (values.count == 1 ? 0 : Double(step) / Double(values.count - 1))
            let y = 10 + (height - 30) * (1 - (value - low) / span)
            return String(format: "%.1f,%.1f", x, y)
        }.joined(separator: " ")
        return """
            <h3>\(escape(title))</h3>
            <svg width="\(Int(width))" height="\(Int(height))" role="img" aria-label="\(escape(title))">
            <polyline fill="none" stroke="#1f6feb" stroke-width="1.5" points="\(points)"/>
            <text x="0" y="14">\(String(format: "%.3g", high))</text><text x="0" y="\(Int(height) - 16)">\(String(format: "%.3g", low))</text>
            <text x="\(Int(width) - 120)" y="\(Int(height) - 2)">\(escape(caption))</text>
            </svg>
            """
    }

    /// Where a report's signed certificate is, its digest and how to check it.
    static func certificateLine(_ certificate: CertificateReference) -> String {
        "<p class=\"muted\">Signed certificate <code>\(escape(certificate.file))</code>, digest <code>\(certificate.digest)</code>; check it with <code>\(escape(certificate.verify))</code>.</p>"
    }

    public static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
