import Crypto
import Tensor

/// What a dataset was loaded from and how, as one sha256: its files' bytes, its format and split, and the
/// normalisation, under a revision of the readers. The same bytes loaded the same way give the same samples, so a
/// digest of the samples (190 MB of FashionMNIST's floats) can be remembered under this one (30 MB of gzip: 0.02 s).
enum DatasetSource {
    /// Bump whenever a reader gives other samples for the same bytes.
    static let revision = 1

    static func digest(of files: [String], format: DatasetFormat, split: Split, normalization: Normalization)
        throws(DatasetError) -> String
    {
        var hasher = SHA256()
        let bits = (normalization.mean + normalization.std).map(\.bitPattern)
        hasher.update(data: Array("lethe dataset source \(revision) \(format.rawValue) \(split) \(bits)".utf8))
        for file in files { hasher.update(data: Array(try sha256(of: file))) }
        return hasher.finalize().hexDigits
    }

    /// `digest` computed on a thread of its own from now on; `value()` waits for it.
    static func digesting(_ files: [String], format: DatasetFormat, split: Split, normalization: Normalization)
        -> Background<String, DatasetError>
    {
        Background { () throws(DatasetError) in
            try digest(of: files, format: format, split: split, normalization: normalization)
        }
    }

    private static func sha256(of path: String) throws(DatasetError) -> SHA256.Digest {
        if let mapped = MappedFile(path) { return mapped.withBytes { SHA256.hash(data: $0) } }
        return SHA256.hash(data: try ByteFile.readRaw(path))
    }
}
