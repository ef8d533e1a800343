import Crypto
import Data
import Foundation
import Jobs
import Transport
import Unlearning

extension UnlearnCommand {
    /// Writes the run's signed certificate and puts its digest into the report; a run that missed its targets
    /// gets none (nothing was removed that a certificate could vouch for).
    func certify(
        _ result: inout UnlearningReport, scenario: Scenario, references: String?,
        key: Curve25519.Signing.PrivateKey, to path: String
    ) throws {
        guard result.missedTargets == nil else {
            log("no certificate: the run missed its targets")
            return
        }
        // The data as loaded, before any holdout or swapped labels: what a verifier loads with --data.
        let train = try scenario.load(.train, from: request.dataOptions)
        let test = try scenario.load(.test, from: request.dataOptions)
        let referenceDigest = try references.map { directory in
            let manifest = URL(fileURLWithPath: directory).appendingPathComponent(ReferenceManifest.fileName)
            return ReferenceDigest(
                manifestSha256: try BlobStore.sha256(contentsOf: manifest),
                count: try ReferenceManifest.read(from: directory)?.references ?? 0)
        }
        let certificate = try UnlearningCertificate(
            body: UnlearningCertificate.body(
                report: result, commitment: ForgetCommitment(forget: scenario.forgetSet.forget, in: train),
                selection: scenario.forgetSet.selection, dataset: DatasetDigest(train: train, test: test),
                version: LetheCommand.version, references: referenceDigest)
        ).signed(with: key)
        try certificate.fileBytes.write(to: URL(fileURLWithPath: path), options: .atomic)
        result.certificate = CertificateReference(file: path, digest: certificate.digest)
        log(
            "certificate \(path) (digest \(certificate.digest)); check it with lethe certificate verify \(path) --public-key signing.pub"
        )
    }
}
