import Crypto
import Data
import Foundation
import Jobs
import Transport
import Unlearning
import Wire

/// A passed job's certificate, signed with the coordinator's key: the body `lethe unlearn --certificate` writes,
/// plus the job's id and the key that requested it. It names the data as the user loaded it (the job's source
/// blobs), so a verifier replays the job with `lethe certificate verify --replay` from the same files and gets the
/// same output sha256.
struct JobCertificate {
    let job: StoredJob
    let blobs: BlobStore
    let key: Curve25519.Signing.PrivateKey

    /// Signs the certificate, stores it as a blob and puts its digest into the report; returns the blob's hash.
    func issue(_ report: inout UnlearningReport, scenario: Scenario, audit: AuditBundle?) throws -> String {
        let spec = job.spec
        let (trainSHA256, testSHA256) = (
            spec.sourceTrainSHA256 ?? spec.trainSHA256, spec.sourceTestSHA256 ?? spec.testSHA256
        )
        let loaded =
            trainSHA256 == spec.trainSHA256 ? scenario.train : try DatasetBlob.decode(try blobs.data(trainSHA256))
        let forget = scenario.forgetSet.forget
        guard forget.allSatisfy({ $0 < loaded.count }),
            loaded.subset(indices: forget).images.scalars == scenario.train.subset(indices: forget).images.scalars
        else {
            throw ProtocolError(
                .badRequest, "the job's source training set does not hold the forget samples the job computed on")
        }
        let certificate = try UnlearningCertificate(
            body: UnlearningCertificate.body(
                report: report, commitment: ForgetCommitment(forget: forget, in: loaded),
                selection: scenario.forgetSet.selection,
                dataset: DatasetDigest(name: loaded.name, trainBlob: trainSHA256, testBlob: testSHA256),
                version: LetheVersion.current, references: try audit.map { try ReferenceDigest($0.manifest) },
                job: (id: job.id, requester: job.submittedBy))
        ).signed(with: key)
        report.certificate = CertificateReference(file: "\(job.id).certificate.json", digest: certificate.digest)
        return try blobs.put(certificate.fileBytes)
    }
}
