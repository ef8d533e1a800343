import Cluster
import Foundation
import Transport

/// A federated client as reports show it.
struct ClientSummary: Codable, Equatable {
    var name: String
    var identity: String
    var samples: Int
    var classCounts: [Int]
    var partition: String
    var rounds: Int

    init(_ member: FederationState.Member) {
        name = member.name
        identity = member.identity
        samples = member.samples
        classCounts = member.classCounts
        partition = member.partition
        rounds = member.rounds.count
    }
}

/// What a federated training job did (`lethe result` of a `--federated` job).
struct FederatedTrainingReport: Codable {
    var job: String
    var model: String
    var seed: UInt64
    var params: [String: String]
    var clients: [ClientSummary]
    var rounds: [FederationState.RoundRecord]
    var final: FederatedVerification
    var trainingSeconds: Double
    var ledgerBytes: Int
    var ledgerSha256: String
    var outputSha256: String

    var summary: String {
        """
        \(job): FedAvg of \(model), \(rounds.count) rounds with \(clients.count) clients in \(String(format: "%.1f", trainingSeconds)) s
          test accuracy \(percent(final.testAccuracy))\(final.backdoorSuccessRate.map { ", backdoor success \(percent($0))" } ?? "")
          contribution ledgers: \(ledgerBytes) bytes (sha256 \(ledgerSha256.prefix(12))…)
        """
    }

    var html: String {
        HTMLReport.page(
            title: "Lethe: federated training \(job)",
            body: """
                <h1>Federated training \(HTMLReport.escape(job))</h1>
                <p>FedAvg of <b>\(HTMLReport.escape(model))</b>: \(rounds.count) rounds with \(clients.count) clients in
                <b>\(String(format: "%.1f", trainingSeconds)) s</b>. Test accuracy <b>\(percent(final.testAccuracy))</b>\(final.backdoorSuccessRate.map { ", backdoor success rate <b>\(percent($0))</b>" } ?? "").
                Contribution ledgers take \(ledgerBytes) bytes.</p>
                <p class="muted">Parameters: \(HTMLReport.escape(params.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")))<br>
                Output sha256 <code>\(outputSha256)</code></p>
                \(HTMLReport.curve(title: "Test accuracy per round", values: rounds.map { $0.testAccuracy }, caption: "\(rounds.count) rounds"))
                <h2>Clients</h2>
                \(clientTable(clients))
                """)
    }
}

/// What forgetting a client did (`lethe forget-client`).
struct ClientForgettingReport: Codable {
    var job: String
    var sourceJob: String
    var method: String
    var params: [String: String]
    var client: ClientSummary
    var before: FederatedVerification
    var after: FederatedVerification
    /// Wall time of the forgetting, of any repair rounds, and of the federated training it undoes.
    var seconds: Double
    var repairSeconds: Double
    var trainingSeconds: Double
    /// `trainingSeconds` over the forgetting's total time: the speed-up over retraining the federation.
    var speedUp: Double
    var dampenedParameters: Int?
    var dampenableParameters: Int?
    var ledgerBytes: Int
    var rounds: [FederationState.RoundRecord]
    var inputSha256: String
    var outputSha256: String

    var summary: String {
        """
        \(job): \(method) forgot client \(client.name) of \(sourceJob) in \(String(format: "%.3f", seconds)) s\(repairSeconds > 0 ? " + \(String(format: "%.1f", repairSeconds)) s repair" : "") (\(String(format: "%.0f", speedUp))× faster than the training)
                              before       after
          test accuracy       \(percent(before.testAccuracy))     \(percent(after.testAccuracy))
          R-set accuracy      \(percent(before.remainingAccuracy))     \(percent(after.remainingAccuracy))
          U-set accuracy      \(percent(before.forgottenAccuracy))     \(percent(after.forgottenAccuracy))
          backdoor success    \(percent(before.backdoorSuccessRate))     \(percent(after.backdoorSuccessRate))
          MIA (U vs test)     \(percent(before.membershipAttack))     \(percent(after.membershipAttack))\(classLine)
        """
    }

    private var classLine: String {
        guard let drop = largestClassDrop else { return "" }
        return "\n  class \(drop.index) (most hurt) \(percent(drop.before))     \(percent(drop.after))"
    }

    /// The test class whose accuracy fell the most (overall accuracy can hide a class that paid for the
    /// forgetting, such as a backdoor's target class), if any fell.
    var largestClassDrop: (index: Int, before: Double, after: Double)? {
        var largest: (index: Int, before: Double, after: Double)?
        for (index, pair) in zip(before.perClassTestAccuracy, after.perClassTestAccuracy).enumerated() {
            guard let old = pair.0, let new = pair.1, new < old else { continue }
            if let current = largest, current.before - current.after >= old - new { continue }
            largest = (index, old, new)
        }
        return largest
    }

    var html: String {
        let rows: [(String, Double?, Double?)] =
            [
                ("Test accuracy", before.testAccuracy, after.testAccuracy),
                ("Remaining clients' data (R-set)", before.remainingAccuracy, after.remainingAccuracy),
                ("Forgotten client's data (U-set)", before.forgottenAccuracy, after.forgottenAccuracy),
                ("Backdoor success rate", before.backdoorSuccessRate, after.backdoorSuccessRate),
                ("Membership attack, U-set vs test", before.membershipAttack, after.membershipAttack),
            ]
            + (largestClassDrop.map { [("Test accuracy of class \($0.index), the most hurt", $0.before, $0.after)] }
                ?? [])
        return HTMLReport.page(
            title: "Lethe: \(method) forgot client \(client.name)",
            body: """
                <h1>\(HTMLReport.escape(method)) forgot client \(HTMLReport.escape(client.name))</h1>
                <p>Client <b>\(HTMLReport.escape(client.name))</b> (\(client.samples) samples, \(HTMLReport.escape(client.partition)),
                key <code>\(HTMLReport.escape(client.identity))</code>) left federated job \(HTMLReport.escape(sourceJob)).
                Forgetting took <b>\(String(format: "%.3f", seconds)) s</b>\(repairSeconds > 0 ? " plus \(String(format: "%.1f", repairSeconds)) s of repair rounds" : ""),
                \(String(format: "%.0f", speedUp))× less than the \(String(format: "%.1f", trainingSeconds)) s of federated training.
                \(dampenedParameters.map { "\($0) of \(dampenableParameters ?? 0) parameters were dampened." } ?? "")</p>
                <p class="muted">Parameters: \(HTMLReport.escape(params.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")))<br>
                Input sha256 <code>\(inputSha256)</code>, output sha256 <code>\(outputSha256)</code></p>
                <h2>Metrics</h2>
                <table><tr><th>Metric</th><th>Before</th><th>After</th></tr>
                \(rows.map { "<tr><td>\($0.0)</td><td>\(percent($0.1))</td><td>\(percent($0.2))</td></tr>" }.joined(separator: "\n"))
                </table>
                <h2>Test accuracy per class</h2>
                <p class="muted">Grey: before; blue: after.</p>
                \(HTMLReport.perClassChart(before: before.perClassTestAccuracy, after: after.perClassTestAccuracy, forgotten: []))
                \(rounds.isEmpty ? "" : HTMLReport.curve(title: "Test accuracy per round", values: rounds.map { $0.testAccuracy }, caption: "\(rounds.count) rounds"))
                """)
    }
}

private func clientTable(_ clients: [ClientSummary]) -> String {
    "<table><tr><th>Client</th><th>Samples</th><th>Rounds</th><th>Partition</th><th>Samples per class</th></tr>"
        + clients.map {
            "<tr><td>\(HTMLReport.escape($0.name))</td><td>\($0.samples)</td><td>\($0.rounds)</td><td>\(HTMLReport.escape($0.partition))</td><td>\($0.classCounts.map(String.init).joined(separator: " "))</td></tr>"
        }.joined(separator: "\n") + "</table>"
}
