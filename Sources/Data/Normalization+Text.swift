import Foundation

/// The textual form of a normalisation, as `--normalize` takes it and checkpoints record it: `none` (pixels stay
/// in [0, 1], as torchvision's `ToTensor()` leaves them), per-channel means and stds `MEANS/STDS`
/// (`0.4914,0.4822,0.4465/0.247,0.243,0.261`, or `0.2860/0.3530` for one channel), or `MEAN,STD` for one channel.
extension Normalization {
    /// Parses the textual form, refusing anything else with the form expected.
    public init(text: String) throws(DatasetError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.lowercased() == "none" {
            self = .identity
            return
        }
        func numbers(_ list: Substring) throws(DatasetError) -> [Float] {
            var values: [Float] = []
            for item in list.split(separator: ",", omittingEmptySubsequences: false) {
                guard let value = Float(item.trimmingCharacters(in: .whitespaces)), value.isFinite else {
                    throw .invalidNormalization(text: text, reason: "'\(item)' is not a number")
                }
                values.append(value)
            }
            return values
        }
        let halves = trimmed.split(separator: "/", omittingEmptySubsequences: false)
        let (mean, std): ([Float], [Float])
        switch halves.count {
        case 2: (mean, std) = (try numbers(halves[0]), try numbers(halves[1]))
        case 1:
            let pair = try numbers(halves[0])
            guard pair.count == 2 else {
                throw .invalidNormalization(text: text, reason: "give MEANS/STDS, MEAN,STD or none")
            }
            (mean, std) = ([pair[0]], [pair[1]])
        default: throw .invalidNormalization(text: text, reason: "give MEANS/STDS, MEAN,STD or none")
        }
        guard mean.count == std.count else {
            throw .invalidNormalization(text: text, reason: "\(mean.count) mean(s) but \(std.count) std(s)")
        }
        guard std.allSatisfy({ $0 > 0 }) else {
            throw .invalidNormalization(text: text, reason: "every std must be positive")
        }
        self.init(mean: mean, std: std)
    }

    /// The textual form `init(text:)` reads back to the same values: `none`, or `MEANS/STDS`.
    public var text: String {
        if self == .identity { return "none" }
        return mean.map { "\($0)" }.joined(separator: ",") + "/" + std.map { "\($0)" }.joined(separator: ",")
    }

    /// Whether both give every channel the same statistics (one value stands for every channel).
    public func sameStatistics(as other: Normalization) -> Bool {
        let channels = max(mean.count, other.mean.count)
        func expanded(_ values: [Float]) -> [Float]? {
            values.count == channels ? values : values.count == 1 ? Array(repeating: values[0], count: channels) : nil
        }
        guard let mean = expanded(mean), let std = expanded(std), let otherMean = expanded(other.mean),
            let otherStd = expanded(other.std)
        else { return false }
        return mean == otherMean && std == otherStd
    }
}
