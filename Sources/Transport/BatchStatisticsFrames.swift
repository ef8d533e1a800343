import NN
import Tensor
import Wire

/// BatchNorm batch statistics as result tensors: "bn/<layer>/mean", "bn/<layer>/variance" and
/// "bn/<layer>/unbiased" (one value) for each BatchNorm layer in `Model.batchNorms` order.
public enum BatchStatisticsFrames {
    public static func encode(_ statistics: [BatchNorm2d.BatchStatistics]) -> [NamedTensor] {
        statistics.enumerated().flatMap { index, layer in
            [
                NamedTensor("bn/\(index)/mean", Tensor(shape: [layer.mean.count], scalars: layer.mean)),
                NamedTensor("bn/\(index)/variance", Tensor(shape: [layer.variance.count], scalars: layer.variance)),
                NamedTensor("bn/\(index)/unbiased", Tensor(shape: [1], scalars: [layer.unbiased])),
            ]
        }
    }

    /// The statistics of layers with `channels`, or nil when any is missing, misshapen or not finite.
    public static func decode(_ tensors: [String: Tensor], channels: [Int]) -> [BatchNorm2d.BatchStatistics]? {
        var statistics: [BatchNorm2d.BatchStatistics] = []
        for (index, count) in channels.enumerated() {
            guard let mean = tensors["bn/\(index)/mean"], let variance = tensors["bn/\(index)/variance"],
                let unbiased = tensors["bn/\(index)/unbiased"], mean.shape == [count], variance.shape == [count],
                unbiased.shape == [1], mean.isFinite, variance.isFinite, unbiased.isFinite
            else { return nil }
            statistics.append(.init(mean: mean.scalars, variance: variance.scalars, unbiased: unbiased.scalars[0]))
        }
        return statistics
    }
}
