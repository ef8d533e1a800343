import ArgumentParser
import Foundation

/// A size given on the command line or in the environment: bytes, or with a suffix K, M, G, T (powers of 1024;
/// `KiB`, `MB`… mean the same), e.g. `500M`, `2G`, `1.5GiB`.
struct ByteSize: ExpressibleByArgument, Equatable, CustomStringConvertible {
    let bytes: Int64

    init(bytes: Int64) { self.bytes = bytes }

    init?(argument: String) {
        let text = argument.trimmingCharacters(in: .whitespaces).uppercased()
        let units: [(suffix: Character, shift: Int64)] = [("K", 10), ("M", 20), ("G", 30), ("T", 40)]
        var number = Substring(text)
        for suffix in ["IB", "B"] where number.hasSuffix(suffix) {
            number = number.dropLast(suffix.count)
            break
        }
        var scale: Double = 1
        if let last = number.last, let unit = units.first(where: { $0.suffix == last }) {
            scale = Double(Int64(1) << unit.shift)
            number = number.dropLast()
        }
        guard let value = Double(number), value.isFinite, value >= 0, value * scale < Double(Int64.max / 2) else {
            return nil
        }
        bytes = Int64((value * scale).rounded())
    }

    var description: String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(bytes) B" : String(format: "%.1f ", value) + units[unit]
    }
}
