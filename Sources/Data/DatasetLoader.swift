import Foundation

/// The on-disk layouts Lethe recognises, detected from a directory's file names.
public enum DatasetFormat: String, Sendable, CaseIterable, CustomStringConvertible {
    /// `train-images-idx3-ubyte[.gz]`, `train-labels-idx1-ubyte[.gz]`, `t10k-…` (MNIST, FashionMNIST).
    case idx = "IDX"
    /// `data_batch_1.bin` … `data_batch_5.bin`, `test_batch.bin` (also inside `cifar-10-batches-bin/`).
    case cifar10 = "CIFAR-10"
    /// `train.bin`, `test.bin` (also inside `cifar-100-binary/`).
    case cifar100 = "CIFAR-100"
    /// `train_images.npy` / `train_labels.npy` / `test_…`, `train/images.npy`, or `images.npy` / `labels.npy`
    /// (a directory holding one split, returned for either split).
    case npy = "NumPy"
    /// `train.csv` / `test.csv`: a table, features then the target column (`CSVReader`).
    case csv = "CSV"

    public var description: String { rawValue }

    /// The format of `directory` and the directory that actually holds its files, or nil when none matches.
    public static func detect(in directory: String) -> (format: DatasetFormat, directory: String)? {
        func has(_ directory: String, _ names: [String]) -> Bool {
            names.contains { DatasetLocation.isFile(join(directory, $0)) }
        }
        let idxNames = ["train", "t10k"].flatMap { idxCandidates($0, "images", 3) }
        if has(directory, idxNames) { return (.idx, directory) }
        for candidate in [directory, join(directory, "cifar-10-batches-bin")]
        where has(candidate, Variant.cifar10.fileNames(.train) + Variant.cifar10.fileNames(.test)) {
            return (.cifar10, candidate)
        }
        for candidate in [directory, join(directory, "cifar-100-binary")]
        where has(candidate, ["train.bin", "test.bin"]) {
            return (.cifar100, candidate)
        }
        let npyNames = ["train_images.npy", "test_images.npy", "images.npy", "train/images.npy", "test/images.npy"]
        if has(directory, npyNames) { return (.npy, directory) }
        if has(directory, ["train.csv", "test.csv"]) { return (.csv, directory) }
        return nil
    }

    /// IDX file names for a prefix ("train"/"t10k") and kind, both common spellings, raw before gzip.
    static func idxCandidates(_ prefix: String, _ kind: String, _ rank: Int) -> [String] {
        ["\(prefix)-\(kind)-idx\(rank)-ubyte", "\(prefix)-\(kind).idx\(rank)-ubyte"].flatMap { [$0, $0 + ".gz"] }
    }

    typealias Variant = CIFARReader.Variant
}

/// Loads datasets by alias or directory, choosing the reader from the directory's files.
public enum DatasetLoader {
    /// Loads `split` of `spec` (an alias such as `fashion-mnist` or a directory). `normalization` overrides
    /// the default: the alias's statistics, FashionMNIST's for other IDX directories, CIFAR's for CIFAR, and
    /// none (mean 0, std 1) for NumPy arrays.
    public static func load(
        _ spec: String, split: Split, normalization: Normalization? = nil, root: String = DatasetLocation.defaultRoot
    ) throws(DatasetError) -> Dataset {
        try load(DatasetLocation.resolve(spec, root: root), split: split, normalization: normalization)
    }

    public static func load(
        _ location: DatasetLocation, split: Split, normalization: Normalization? = nil
    ) throws(DatasetError) -> Dataset {
        let (format, directory) = try detect(location)
        let statistics = normalization ?? defaultNormalization(of: location, format: format)
        let files = try files(format, in: directory, split: split)
        // The files' digest is taken on another thread while they are read (decompression is one stream); not in a
        // `Parallel` region, inside which the reader's own regions would run on one thread.
        let source = DatasetSource.digesting(files, format: format, split: split, normalization: statistics)
        var dataset = try read(files, format, name: location.name, normalization: statistics)
        switch location.derivation {
        case nil:
            dataset.source = try source.value()
            return dataset
        case .rotation: return RotationTask.derive(from: dataset, split: split, name: location.name)
        }
    }

    /// The files `split` is read from, in the order their reader takes them.
    private static func files(_ format: DatasetFormat, in directory: String, split: Split) throws(DatasetError)
        -> [String]
    {
        switch format {
        case .idx:
            let prefix = split == .train ? "train" : "t10k"
            return [
                try find(directory, DatasetFormat.idxCandidates(prefix, "images", 3), format),
                try find(directory, DatasetFormat.idxCandidates(prefix, "labels", 1), format),
            ]
        case .cifar10, .cifar100:
            let variant: CIFARReader.Variant = format == .cifar10 ? .cifar10 : .cifar100
            return try batchFiles(directory, variant.fileNames(split), format)
        case .npy:
            let (images, labels) = try npyFiles(directory, split)
            return [images, labels]
        case .csv:
            return [try find(directory, ["\(split == .train ? "train" : "test").csv"], format)]
        }
    }

    private static func read(
        _ files: [String], _ format: DatasetFormat, name: String, normalization statistics: Normalization
    ) throws(DatasetError) -> Dataset {
        switch format {
        case .idx:
            return try IDXReader.read(images: files[0], labels: files[1], name: name, normalization: statistics)
        case .cifar10, .cifar100:
            let variant: CIFARReader.Variant = format == .cifar10 ? .cifar10 : .cifar100
            return try CIFARReader.read(files, variant: variant, name: name, normalization: statistics)
        case .npy:
            return try NPYReader.read(images: files[0], labels: files[1], name: name, normalization: statistics)
        case .csv:
            return try CSVReader.read(files[0], name: name, normalization: statistics)
        }
    }

    /// The normalisation `load` applies to `spec` when given none: the alias's statistics, FashionMNIST's for other
    /// IDX directories, CIFAR's for CIFAR, and none for NumPy arrays and CSV tables.
    public static func defaultNormalization(
        _ spec: String, root: String = DatasetLocation.defaultRoot
    ) throws(DatasetError) -> Normalization {
        let location = try DatasetLocation.resolve(spec, root: root)
        return defaultNormalization(of: location, format: try detect(location).format)
    }

    /// The location's format and the directory that holds its files, or an error listing what it holds.
    private static func detect(_ location: DatasetLocation) throws(DatasetError) -> (
        format: DatasetFormat, directory: String
    ) {
        guard let found = DatasetFormat.detect(in: location.directory) else {
            let contents = (try? FileManager.default.contentsOfDirectory(atPath: location.directory).sorted()) ?? []
            throw .unrecognizedDirectory(path: location.directory, contents: contents)
        }
        return found
    }

    private static func defaultNormalization(of location: DatasetLocation, format: DatasetFormat) -> Normalization {
        switch format {
        case .idx: location.normalization ?? .fashionMNIST
        case .cifar10, .cifar100: .cifar
        case .npy, .csv: .identity
        }
    }

    /// The first existing file among `names`, or an error naming the first (preferred) spelling.
    private static func find(_ directory: String, _ names: [String], _ format: DatasetFormat) throws(DatasetError)
        -> String
    {
        for name in names where DatasetLocation.isFile(join(directory, name)) { return join(directory, name) }
        throw .missingFile(path: join(directory, names[0] + "[.gz]"), format: format.rawValue)
    }

    /// The leading run of existing batch files; a gap before a later batch is an error, not a silent skip.
    private static func batchFiles(
        _ directory: String, _ names: [String], _ format: DatasetFormat
    ) throws(DatasetError) -> [String] {
        let paths = names.map { join(directory, $0) }
        let present = paths.map(DatasetLocation.isFile)
        let run = present.firstIndex(of: false) ?? paths.count
        guard run > 0 else { throw .missingFile(path: paths[0], format: format.rawValue) }
        if present[run...].contains(true) { throw .missingFile(path: paths[run], format: format.rawValue) }
        return Array(paths[..<run])
    }

    private static func npyFiles(_ directory: String, _ split: Split) throws(DatasetError) -> (String, String) {
        let layouts = [
            ("\(split)_images.npy", "\(split)_labels.npy"), ("\(split)/images.npy", "\(split)/labels.npy"),
            ("images.npy", "labels.npy"),
        ]
        for (images, labels) in layouts where DatasetLocation.isFile(join(directory, images)) {
            guard DatasetLocation.isFile(join(directory, labels)) else {
                throw .missingFile(path: join(directory, labels), format: DatasetFormat.npy.rawValue)
            }
            return (join(directory, images), join(directory, labels))
        }
        throw .missingFile(path: join(directory, "\(split)_images.npy"), format: DatasetFormat.npy.rawValue)
    }
}

func join(_ directory: String, _ name: String) -> String {
    (directory as NSString).appendingPathComponent(name)
}
