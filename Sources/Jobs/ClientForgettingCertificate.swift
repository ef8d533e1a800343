import Foundation

/// The certificate of a `lethe forget-client` job: "the contributions of this client (its key), recorded in this
/// ledger, were removed from federated model X, giving model Y, by this method with these parameters, over these
/// repair rounds, with this evidence". Signed and verified like an `UnlearningCertificate` (same canonical JSON,
/// same Ed25519 signature), but its repair rounds ran on the clients' own data, so it cannot be replayed locally.
extension UnlearningCertificate {
    public static let clientFormat = "lethe-client-forgetting-certificate/1"

    /// The body of a forget-client job's certificate.
    public static func body(
        forgetting report: ClientForgettingReport, ledgerSha256: String, model: String, seed: UInt64, kernels: String,
        version: String, job: (id: String, requester: String)
    ) -> CanonicalJSON {
        .object([
            "format": .string(clientFormat),
            "lethe_version": .string(version),
            "blas_kernels": .string(kernels),
            "method": .string(report.method),
            "params": .object(report.params.mapValues { .string($0) }),
            "seed": .string(String(seed)),
            "model": .string(model),
            "input_sha256": .string(report.inputSha256),
            "output_sha256": .string(report.outputSha256),
            "source_job": .string(report.sourceJob),
            "ledger_sha256": .string(ledgerSha256),
            "client": .object([
                "name": .string(report.client.name), "key": .string(report.client.identity),
                "samples": .integer(Int64(report.client.samples)),
            ]),
            "rounds": .array(
                report.rounds.map { round in
                    .object([
                        "round": .integer(Int64(round.round)),
                        "participants": .array(round.participants.sorted().map { .string($0) }),
                        "test_accuracy": .number(round.testAccuracy),
                    ])
                }),
            "figures": .object(["before": figures(report.before), "after": figures(report.after)]),
            "job": .object(["id": .string(job.id), "requester_key": .string(job.requester)]),
        ])
    }

    /// A federated model's verification figures: test accuracy (per class too), the backdoor, the remaining and the
    /// forgotten clients' accuracy and the membership attack, where measured.
    static func figures(_ verification: FederatedVerification) -> CanonicalJSON {
        var members: [String: CanonicalJSON] = [
            "test_accuracy": .number(verification.testAccuracy),
            "per_class_test_accuracy": .array(
                verification.perClassTestAccuracy.map { $0.map { .number($0) } ?? .null }),
        ]
        let optional: [(String, Double?)] = [
            ("backdoor_success_rate", verification.backdoorSuccessRate),
            ("remaining_accuracy", verification.remainingAccuracy),
            ("forgotten_accuracy", verification.forgottenAccuracy),
            ("membership_attack", verification.membershipAttack),
        ]
        for (key, value) in optional { if let value { members[key] = .number(value) } }
        return .object(members)
    }

    /// Whether this certificate is a forget-client job's (which has no forget-set commitment and no local replay).
    public var isClientForgetting: Bool { body["format"]?.stringValue == Self.clientFormat }
}
