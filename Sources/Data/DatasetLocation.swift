import Foundation

/// Where a dataset lives: an installed alias (`fashion-mnist`, `mnist`) or a directory of dataset files.
public struct DatasetLocation: Sendable, Equatable {
    /// An installed dataset known by name.
    public struct Alias: Sendable, Equatable {
        public let name: String
        public let directoryName: String
        public let package: String
        public let normalization: Normalization
        /// A regression task made from the installed files (nil: the files as they are).
        public var derivation: DatasetDerivation? = nil
    }

    /// Where Debian's dataset packages install their files.
    public static let defaultRoot = "/usr/share/datasets"

    public static let aliases: [Alias] = [
        Alias(
            name: "fashion-mnist", directoryName: "fashion-mnist", package: "dataset-fashion-mnist",
            normalization: .fashionMNIST),
        Alias(name: "mnist", directoryName: "mnist", package: "dataset-mnist", normalization: .mnist),
        Alias(
            name: "fashion-mnist-rotation", directoryName: "fashion-mnist", package: "dataset-fashion-mnist",
            normalization: .fashionMNIST, derivation: .rotation),
    ]

    public var name: String
    public var directory: String
    /// The alias's normalisation, or nil for a plain directory (the format's default then applies).
    public var normalization: Normalization?
    /// What the loader makes of the files (the alias's derivation).
    public var derivation: DatasetDerivation?

    public init(
        name: String, directory: String, normalization: Normalization? = nil, derivation: DatasetDerivation? = nil
    ) {
        self.name = name
        self.directory = directory
        self.normalization = normalization
        self.derivation = derivation
    }

    /// Resolves `spec`: a known alias (looked up under `root`) unless it contains a '/', else an existing
    /// directory. Use `./mnist` for a local directory that shares an alias's name.
    public static func resolve(_ spec: String, root: String = defaultRoot) throws(DatasetError) -> DatasetLocation {
        if !spec.contains("/"), let alias = alias(named: spec) {
            let directory = (root as NSString).appendingPathComponent(alias.directoryName)
            guard isDirectory(directory) else {
                throw .notInstalled(alias: alias.name, directory: directory, package: alias.package)
            }
            return DatasetLocation(
                name: alias.name, directory: directory, normalization: alias.normalization, derivation: alias.derivation
            )
        }
        guard isDirectory(spec) else { throw .unknownDataset(spec: spec, aliases: aliases.map(\.name)) }
        let name = URL(fileURLWithPath: spec).standardizedFileURL.lastPathComponent
        return DatasetLocation(name: name, directory: spec)
    }

    /// The alias for a name, ignoring case and '-' / '_' (`FashionMNIST`, `fashion_mnist`).
    public static func alias(named name: String) -> Alias? {
        func key(_ text: String) -> String { text.lowercased().filter { $0 != "-" && $0 != "_" } }
        return aliases.first { key($0.name) == key(name) }
    }

    static func isDirectory(_ path: String) -> Bool {
        var directory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &directory) && directory.boolValue
    }

    static func isFile(_ path: String) -> Bool {
        var directory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &directory) && !directory.boolValue
    }
}
