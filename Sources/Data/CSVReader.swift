import Foundation
import Tensor

/// A table in a comma-separated file (`train.csv`, `test.csv`): one sample a row, the features first and the
/// target in the last column. A first row with any cell that is not a number is a header. When the header names
/// the last column `label` or `class`, the targets are class indices (a classification table); otherwise they are
/// regression targets (a regression dataset whose samples all share class 0). Features are read as [N, 1, 1, D]
/// rows, like a NumPy [N, D] table, then normalised. Blank lines are skipped; cells may be quoted.
public enum CSVReader {
    /// Header names of a last column that holds class indices rather than regression targets.
    public static let classColumnNames: Set<String> = ["label", "class"]

    public static func read(
        _ path: String, name: String, classCount: Int? = nil, normalization: Normalization = .identity
    ) throws(DatasetError) -> Dataset {
        let table = try parse(path)
        let (rows, columns) = (table.rows.count, table.columns)
        let features = columns - 1
        let statistics = try normalization.perChannel(1, path: path)
        var scalars = [Float](repeating: 0, count: rows * features)
        for (row, values) in table.rows.enumerated() {
            for column in 0..<features {
                scalars[row * features + column] = (values[column] - statistics.mean[0]) / statistics.std[0]
            }
        }
        let images = Tensor(shape: [rows, 1, 1, features], scalars: scalars)
        let last = table.rows.map { $0[features] }
        guard let header = table.header, classColumnNames.contains(header[features].lowercased()) else {
            if let bad = last.firstIndex(where: { !$0.isFinite }) { throw .nonFiniteTarget(path: path, index: bad) }
            return Dataset(
                name: name, images: images, labels: [Int](repeating: 0, count: rows), classCount: 1,
                targets: Tensor(shape: [rows, 1], scalars: last))
        }
        let limit = classCount ?? NPYReader.maxInferredClasses
        var labels: [Int] = []
        labels.reserveCapacity(rows)
        for (index, value) in last.enumerated() {
            guard value.isFinite, value == value.rounded(), value >= 0, value < Float(limit) else {
                throw .labelOutOfRange(
                    path: path, index: index, label: value.isFinite ? Int(value) : -1, classCount: limit)
            }
            labels.append(Int(value))
        }
        return try .pairing(
            images: DatasetImages(images), imagesPath: path, labels: labels, labelsPath: path, name: name,
            classCount: classCount)
    }

    struct Table {
        var header: [String]?
        var rows: [[Float]]
        var columns: Int
    }

    /// The file's rows of numbers (and its header), every row as wide as the first.
    static func parse(_ path: String) throws(DatasetError) -> Table {
        guard DatasetLocation.isFile(path) else { throw .fileNotFound(path: path) }
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw .unreadable(path: path, reason: "not UTF-8 text (\(error.localizedDescription))")
        }
        var table = Table(header: nil, rows: [], columns: 0)
        for (number, line) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let cells = line.split(separator: ",", omittingEmptySubsequences: false).map(unquoted)
            if cells.allSatisfy(\.isEmpty) { continue }
            let values = cells.map(Float.init)
            if table.columns == 0 {
                guard cells.count >= 2 else {
                    throw .sizeMismatch(
                        path: path,
                        detail: "line \(number + 1) has \(cells.count) column; a table needs features "
                            + "and a target column")
                }
                table.columns = cells.count
                if values.contains(nil) {
                    table.header = cells
                    continue
                }
            }
            guard cells.count == table.columns else {
                throw .sizeMismatch(
                    path: path, detail: "line \(number + 1) has \(cells.count) columns; expected \(table.columns)")
            }
            if let column = values.firstIndex(of: nil) {
                throw .sizeMismatch(
                    path: path, detail: "line \(number + 1), column \(column + 1): '\(cells[column])' is not a number")
            }
            let row = values.map { $0! }
            if let column = row.dropLast().firstIndex(where: { !$0.isFinite }) {
                throw .sizeMismatch(
                    path: path, detail: "line \(number + 1), column \(column + 1): feature is not a finite number")
            }
            table.rows.append(row)
        }
        guard !table.rows.isEmpty else { throw .empty(path: path) }
        return table
    }

    private static func unquoted(_ cell: Substring) -> String {
        var text = cell.trimmingCharacters(in: .whitespaces)
        if text.count >= 2, text.hasPrefix("\""), text.hasSuffix("\"") { text = String(text.dropFirst().dropLast()) }
        return text
    }
}
