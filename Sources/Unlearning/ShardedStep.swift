import NN
import Tensor

/// One optimisation step's gradient, computed as DESIGN §4 prescribes: the minibatch is split into a fixed
/// number of logical shards, each shard's gradient is computed from zero, and the shard gradients are summed
/// in shard order. A distributed run sums the same shard results in the same order, so both produce the
/// same bits whatever computes each shard.
public enum ShardedStep {
    /// Rows of shard `index` out of `count` for a batch of `rows`.
    public static func rows(ofShard index: Int, count: Int, batch rows: Int) -> Range<Int> {
        (rows * index / count)..<(rows * (index + 1) / count)
    }

    /// Leaves the summed gradient of `loss` over the batch in every parameter's `grad` and returns the summed
    /// loss. `loss` receives a shard's logits and labels and must return the *sum* over that shard's samples
    /// (and its gradient); the result is divided by the batch size, i.e. it is the batch mean.
    public static func accumulate(
        model: Model, images: Tensor, labels: [Int], shards: Int, mode: ForwardMode,
        loss: (_ logits: Tensor, _ labels: [Int], _ rows: Range<Int>) -> LossResult
    ) -> Double {
        let batch = labels.count
        precondition(
            shards >= 1 && batch >= shards, "need at least one sample per shard (\(batch) samples, \(shards) shards)")
        let parameters = model.namedParameters.map(\.parameter)
        var totals: [Tensor] = []
        var totalLoss = 0.0
        for shard in 0..<shards {
            let rows = rows(ofShard: shard, count: shards, batch: batch)
            model.zeroGradients()
            let shardMode = ForwardMode(isTraining: mode.isTraining, seed: mode.seed &+ UInt64(shard))
            let logits = model.forward(images.slice(rows: rows), mode: shardMode)
            let result = loss(logits, Array(labels[rows]), rows)
            var gradient = result.gradient
            gradient.scale(by: 1 / Float(batch))
            model.backward(gradient)
            totalLoss += Double(result.value)
            if shards == 1 { break }
            if shard == 0 {
                totals = parameters.map(\.grad)
            } else {
                for (index, parameter) in parameters.enumerated() { totals[index].add(parameter.grad) }
            }
        }
        if shards > 1 {
            for (parameter, total) in zip(parameters, totals) { parameter.grad = total }
        }
        return totalLoss / Double(batch)
    }
}
