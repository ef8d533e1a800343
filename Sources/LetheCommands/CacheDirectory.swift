import ArgumentParser
import Foundation
import Jobs
import Transport

/// Lethe's cache, in `$LETHE_CACHE_DIR` (else `$XDG_CACHE_HOME/lethe`, else `~/.cache/lethe`):
/// - `references/<sha256 of the original>`: where `lethe audit prepare` leaves membership-audit references for
///   later commands to find: the reference directory itself (`audit prepare` without `--out`) or a link to the
///   directory it was given. `lethe unlearn` and `lethe audit` without `--references` use the entry of the
///   checkpoint they start from, so a prepared model is audited without being told twice;
/// - `predictions/<key>.safetensors`: an original's predictions on every test sample and on the training samples
///   runs on it needed (each run adds those it predicted, under a lock on the entry, so that runs at the same time
///   keep each other's), from which later runs derive their "before" figures and SCRUB's teacher logits
///   (`PredictionStore`);
/// - `phases/<key>.safetensors`: outcomes of reusable plan phases, such as SSD's training-set importances
///   (`PhaseReuse`).
/// Predictions and phases together stay within `$LETHE_CACHE_MAX_SIZE` (default 2 GiB): past it, the least
/// recently used go first. References are only removed by `lethe cache clear --references`.
struct CacheDirectory {
    static let maxSizeVariable = "LETHE_CACHE_MAX_SIZE"

    let root: URL
    let environment: [String: String]

    init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
        if let explicit = environment["LETHE_CACHE_DIR"], !explicit.isEmpty {
            root = URL(fileURLWithPath: explicit)
        } else if let xdg = environment["XDG_CACHE_HOME"], !xdg.isEmpty {
            root = URL(fileURLWithPath: xdg).appendingPathComponent("lethe")
        } else {
            root = FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/lethe")
        }
    }

    /// How much predictions, phases, baselines and data digests may hold: `$LETHE_CACHE_MAX_SIZE`, else the default.
    func budget() throws -> CacheBudget {
        guard let text = environment[Self.maxSizeVariable], !text.isEmpty else { return CacheBudget() }
        guard let size = ByteSize(argument: text) else {
            throw ValidationError("\(Self.maxSizeVariable)=\(text) is not a size (e.g. 500M, 2G or bytes)")
        }
        return CacheBudget(maxBytes: size.bytes)
    }

    /// What earlier runs kept for later ones: originals' predictions and reusable phases' outcomes.
    func runs() throws -> RunCache { RunCache(directory: root, budget: try budget()) }

    /// The prepared references' entries: each original's sha256 and where its references are.
    var references: [(original: String, directory: URL)] {
        let directory = root.appendingPathComponent("references")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted().map { name in
            (name, directory.appendingPathComponent(name).resolvingSymlinksInPath())
        }
    }

    /// The entry for the checkpoint with this sha256.
    func entry(original sha256: String) -> URL {
        root.appendingPathComponent("references").appendingPathComponent(sha256)
    }

    /// The reference directory prepared for the checkpoint at `weights`, if one holds a manifest.
    func lookup(weights: String) -> String? {
        guard let sha = try? BlobStore.sha256(contentsOf: URL(fileURLWithPath: weights)) else { return nil }
        let entry = entry(original: sha).resolvingSymlinksInPath()
        let manifest = entry.appendingPathComponent(ReferenceManifest.fileName).path
        return FileManager.default.fileExists(atPath: manifest) ? entry.path : nil
    }

    /// Links the checkpoint's entry to `directory` (unless it is the entry); a cache that cannot be written is
    /// reported and skipped, the references themselves are fine.
    func register(_ directory: String, original sha256: String) {
        let entry = entry(original: sha256)
        let target = URL(fileURLWithPath: directory).standardizedFileURL
        guard target.resolvingSymlinksInPath() != entry.resolvingSymlinksInPath() else { return }
        do {
            try FileManager.default.createDirectory(
                at: entry.deletingLastPathComponent(), withIntermediateDirectories: true)
            let temporary = entry.deletingLastPathComponent().appendingPathComponent(".\(sha256).\(UUID())")
            try FileManager.default.createSymbolicLink(at: temporary, withDestinationURL: target)
            guard rename(temporary.path, entry.path) == 0 else {
                try? FileManager.default.removeItem(at: temporary)
                throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
            }
        } catch {
            log("could not record the references in the cache \(root.path): \(error)")
        }
    }

    /// Which references a command uses: `--references DIR`, none with `--references none`, else the cache's entry
    /// for `weights` (said on the console).
    func resolve(_ option: String?, weights: String) -> String? {
        switch option {
        case "none": return nil
        case .some(let directory): return directory
        case nil:
            guard let found = lookup(weights: weights) else { return nil }
            log("membership-audit references for \(weights) from the cache: \(found) (--references none: without)")
            return found
        }
    }
}
