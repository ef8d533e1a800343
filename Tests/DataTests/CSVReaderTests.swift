import Data
import Foundation
import Testing

/// CSV tables: features then a target column, a header when the first row is not all numbers, regression targets
/// unless the header names the last column `label` or `class`; every malformed row named by line and column.
struct CSVReaderTests {
    func write(_ directory: TempDirectory, _ name: String, _ text: String) throws -> String {
        try directory.write(name, Array(text.utf8))
    }

    @Test func aHeaderedTableReadsAsRegressionRows() throws {
        let directory = try TempDirectory()
        let path = try write(
            directory, "train.csv", "age,bmi,\"progression\"\n0.5, 1.5, 151\n\n-1,2,75.5\r\n3,\"4\",141\n")
        let dataset = try CSVReader.read(path, name: "diabetes")
        #expect(dataset.isRegression && dataset.count == 3 && dataset.imageShape == [1, 1, 2])
        #expect(dataset.images.scalars == [0.5, 1.5, -1, 2, 3, 4])
        #expect(dataset.targets?.shape == [3, 1] && dataset.targets?.scalars == [151, 75.5, 141])

        let normalized = try CSVReader.read(path, name: "diabetes", normalization: Normalization(mean: [1], std: [2]))
        #expect(normalized.images.scalars == [-0.25, 0.25, -1, 0.5, 1, 1.5])
    }

    @Test func aLabelColumnMakesAClassificationTableAndNoHeaderIsFine() throws {
        let directory = try TempDirectory()
        let classes = try CSVReader.read(try write(directory, "c.csv", "x,y,label\n1,2,0\n3,4,2\n"), name: "c")
        #expect(!classes.isRegression && classes.labels == [0, 2] && classes.classCount == 3)
        let plain = try CSVReader.read(try write(directory, "p.csv", "1,2,0.25\n3,4,7\n"), name: "p")
        #expect(plain.isRegression && plain.count == 2 && plain.targets?.scalars == [0.25, 7])
    }

    @Test func malformedTablesAreRefusedByLineAndColumn() throws {
        let directory = try TempDirectory()
        let cases: [(String, ErrorKind, [String])] = [
            ("a,b,t\n1,2,3\n4,5\n", .sizeMismatch, ["line 3 has 2 columns; expected 3"]),
            ("a,b,t\n1,x,3\n", .sizeMismatch, ["line 2, column 2: 'x' is not a number"]),
            ("a,b,t\n1,,3\n", .sizeMismatch, ["line 2, column 2"]),
            ("a,b,t\n1,inf,3\n", .sizeMismatch, ["feature is not a finite number"]),
            ("a,b,t\n1,2,nan\n", .nonFiniteTarget, ["target 0"]),
            ("a,b,label\n1,2,1.5\n", .labelOutOfRange, ["sample 0"]),
            ("a,b,label\n1,2,-1\n", .labelOutOfRange, ["sample 0"]),
            ("a,b,t\n\n", .empty, []),
            ("only\n1\n", .sizeMismatch, ["needs features and a target column"]),
        ]
        for (index, (text, kind, fragments)) in cases.enumerated() {
            let path = try write(directory, "bad\(index).csv", text)
            expectError(kind, mentioning: [path] + fragments) { try CSVReader.read(path, name: "bad") }
        }
        expectError(.fileNotFound) { try CSVReader.read(directory.file("missing.csv"), name: "none") }
        let binary = try directory.write("binary.csv", [0xff, 0xfe, 0x00, 0x31])
        expectError(.unreadable) { try CSVReader.read(binary, name: "binary") }
    }

    @Test func aDirectoryWithTrainAndTestCSVLoadsAsATable() throws {
        let directory = try TempDirectory()
        try write(directory, "train.csv", "a,b,t\n1,2,3\n4,5,6\n")
        try write(directory, "test.csv", "a,b,t\n7,8,9\n")
        #expect(DatasetFormat.detect(in: directory.path)?.format == .csv)
        let train = try DatasetLoader.load(directory.path, split: .train)
        let test = try DatasetLoader.load(directory.path, split: .test)
        #expect(train.count == 2 && test.count == 1 && test.targets?.scalars == [9])
        #expect(try DatasetLoader.defaultNormalization(directory.path) == .identity)
    }
}
