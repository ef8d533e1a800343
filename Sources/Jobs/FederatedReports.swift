import Foundation

/// A federated client as reports show it.
public struct ClientSummary: Codable, Equatable {
    public var name: String
    public var identity: String
    public var samples: Int
    public var classCounts: [Int]
    public var partition: String
    public var rounds: Int

    public init(_ member: FederationState.Member) {
        name = member.name
        identity = member.identity
        samples = member.samples
        classCounts = member.classCounts
        partition = member.partition
        rounds = member.rounds.count
    }
}

/// What a federated training job did (`lethe result` of a `--federated` job).
public struct FederatedTrainingReport: Codable {
    public var job: String
    public var model: String
    public var seed: UInt64
    public var params: [String: String]
    public var clients: [ClientSummary]
    public var rounds: [FederationState.RoundRecord]
    public var final: FederatedVerification
    public var trainingSeconds: Double
    public var ledgerBytes: Int
    public var ledgerSha256: String
    public var outputSha256: String

    public init(
        job: String, model: String, seed: UInt64, params: [String: String], clients: [ClientSummary],
        rounds: [FederationState.RoundRecord], final: FederatedVerification, trainingSeconds: Double, ledgerBytes: Int,
        ledgerSha256: String, outputSha256: String
    ) {
        self.job = job
        self.model = model
        self.seed = seed
        self.params = params
        self.clients = clients
        self.rounds = rounds
        self.final = final
        self.trainingSeconds = trainingSeconds
        self.ledgerBytes = ledgerBytes
        self.ledgerSha256 = ledgerSha256
        self.outputSha256 = outputSha256
    }

    public var summary: String {
        """
        \(job): FedAvg of \(model), \(rounds.count) rounds with \(clients.count) clients in \(String(format: "%.1f", trainingSeconds)) s
          test accuracy \(percent(final.testAccuracy))\(final.backdoorSuccessRate.map { ", backdoor success \(percent($0))" } ?? "")
          contribution ledgers: \(ledgerBytes) bytes (sha256 \(ledgerSha256.prefix(12))…)
        """
    }

    public var html: String {
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
public struct ClientForgettingReport: Codable {
    public var job: String
    public var sourceJob: String
    public var method: String
    public var params: [String: String]
    public var client: ClientSummary
    public var before: FederatedVerification
    public var after: FederatedVerification
    /// Wall time of the forgetting, of any repair rounds, and of the federated training it undoes.
    public var seconds: Double
    public var repairSeconds: Double
    public var trainingSeconds: Double
    /// `trainingSeconds` over the forgetting's total time: the speed-up over retraining the federation.
    public var speedUp: Double
    public var dampenedParameters: Int?
    public var dampenableParameters: Int?
    public var ledgerBytes: Int
    public var rounds: [FederationState.RoundRecord]
    public var inputSha256: String
    public var outputSha256: String
    /// The job's signed certificate, when the coordinator has a signing key.
    public var certificate: CertificateReference? = nil

    public init(
        job: String, sourceJob: String, method: String, params: [String: String], client: ClientSummary,
        before: FederatedVerification, after: FederatedVerification, seconds: Double, repairSeconds: Double,
        trainingSeconds: Double, speedUp: Double, dampenedParameters: Int?, dampenableParameters: Int?,
        ledgerBytes: Int, rounds: [FederationState.RoundRecord], inputSha256: String, outputSha256: String
    ) {
        self.job = job
        self.sourceJob = sourceJob
        self.method = method
        self.params = params
        self.client = client
        self.before = before
        self.after = after
        self.seconds = seconds
        self.repairSeconds = repairSeconds
        self.trainingSeconds = trainingSeconds
        self.speedUp = speedUp
        self.dampenedParameters = dampenedParameters
        self.dampenableParameters = dampenableParameters
        self.ledgerBytes = ledgerBytes
        self.rounds = rounds
        self.inputSha256 = inputSha256
        self.outputSha256 = outputSha256
    }

    public var summary: String {
        """
        \(job): \(method) forgot client \(client.name) of \(sourceJob) in \(String(format: "%.3f", seconds)) s\(repairSeconds > 0 ? " + \(String(format: "%.1f", repairSeconds)) s repair" : "") (\(String(format: "%.0f", speedUp))× faster than the training)
                              before       after
          test accuracy       \(percent(before.testAccuracy))     \(percent(after.testAccuracy))
          R-set accuracy      \(percent(before.remainingAccuracy))     \(percent(after.remainingAccuracy))
          U-set accuracy      \(percent(before.forgottenAccuracy))     \(percent(after.forgottenAccuracy))
          backdoor success    \(percent(before.backdoorSuccessRate))     \(percent(after.backdoorSuccessRate))
          MIA (U vs test)     \(percent(before.membershipAttack))     \(percent(after.membershipAttack))\(classLine)\(certificate.map { "\n" + $0.summary } ?? "")
        """
    }

    private var classLine: String {
        guard let drop = largestClassDrop else { return "" }
        return "\n  class \(drop.index) (most hurt) \(percent(drop.before))     \(percent(drop.after))"
    }

    /// The test class whose accuracy fell the most (overall accuracy can hide a class that paid for the
    /// forgetting, such as a backdoor's target class), if any fell.
    public var largestClassDrop: (index: Int, before: Double, after: Double)? {
        var largest: (index: Int, before: Double, after: Double)?
        for (index, pair) in zip(before.perClassTestAccuracy, after.perClassTestAccuracy).enumerated() {
            guard let old = pair.0, let new = pair.1, new < old else { continue }
            if let current = largest, current.before - current.after >= old - new { continue }
            largest = (index, old, new)
        }
        return largest
    }

    public var html: String {
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
                \(certificate.map(HTMLReport.certificateLine) ?? "")
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
