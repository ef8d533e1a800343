import Foundation
import NN
import Tensor
import Testing

/// Inference's max pooling (no positions kept) takes the same element as a pass that keeps them: same bits for
/// ties, signed zeros and NaNs.
struct PoolingInferenceTests {
    @Test func inferencePoolingGivesTheBitsOfTrainingPooling() {
        var generator = SeededGenerator(seed: 11)
        var input = Tensor.normal(shape: [3, 4, 10, 12], using: &generator)
        input.withUnsafeMutableBufferPointer { x in
            x[0] = 0
            x[1] = -0.0
            x[12] = -0.0
            x[13] = 0  // a window of signed zeros: the first is taken
            x[40] = .nan
            x[41] = 5  // a NaN once seen is kept
            x[122] = 3
            x[123] = 3  // ties
        }
        let pool = MaxPool2d(kernel: 2)
        let kept = pool.forward(input, mode: .eval)
        let inferred = pool.forward(input, mode: .inference)
        #expect(inferred.shape == kept.shape)
        #expect(inferred.scalars.map(\.bitPattern) == kept.scalars.map(\.bitPattern))
    }
}

/// A ReLU that feeds a max-pool runs after it (relu(max) = max(relu), ReLU passes over a quarter of the values),
/// in inference and in training: logits, input gradients and parameter gradients are the bits of a pass through
/// the layers one by one in their written order; a tapped ReLU keeps its order and its features.
struct ReLUPoolingOrderTests {
    /// Forward (and, in training, backward) through the root's children one by one, in the written order.
    private func layerByLayer(_ model: Model, _ input: Tensor, mode: ForwardMode, logitsGradient: Tensor?) -> (
        logits: Tensor, inputGradient: Tensor?
    ) {
        var x = input
        for child in model.root.children { x = child.layer.forward(x, mode: mode) }
        guard var gradient = logitsGradient else { return (x, nil) }
        for child in model.root.children.reversed() { gradient = child.layer.backward(gradient) }
        return (x, gradient)
    }

    private func bits(_ tensor: Tensor) -> [UInt32] { tensor.scalars.map(\.bitPattern) }
    /// A whole tensor's bits, for comparing large ones.
    private func digest(_ tensor: Tensor) -> String { sha256Hex(tensor.scalars.withUnsafeBytes { Data($0) }) }

    @Test(arguments: [ForwardMode.inference, .eval])
    func logitsAreTheBitsOfTheWrittenOrder(mode: ForwardMode) {
        let model = ModelZoo.fmnistCNN(seed: 3)
        var generator = SeededGenerator(seed: 5)
        let images = Tensor.normal(shape: [20, 1, 28, 28], using: &generator)
        let reference = layerByLayer(model, images, mode: mode, logitsGradient: nil).logits
        #expect(bits(model.forward(images, mode: mode)) == bits(reference))
    }

    /// fmnist-cnn's 2×2 pools, and an ImageNet ResNet's stem (a ReLU feeding a padded 3×3 pool of stride 2).
    @Test(arguments: ["fmnist-cnn", "stem"])
    func trainingGradientsAreTheBitsOfTheWrittenOrder(architecture: String) {
        let fused = architecture == "stem" ? stem() : ModelZoo.fmnistCNN(seed: 3)
        let written = fused.copy()
        var generator = SeededGenerator(seed: 6)
        var images = Tensor.normal(shape: [16, 1, 28, 28], using: &generator)
        images.withUnsafeMutableBufferPointer { x in for i in stride(from: 0, to: x.count, by: 7) { x[i] = 0 } }
        let labels = (0..<16).map { $0 % 10 }
        let logits = fused.forward(images, mode: .train())
        let gradient = crossEntropy(logits: logits, labels: labels).gradient
        let inputGradient = fused.backward(gradient, inputGradient: true)
        (written.root.children.first?.layer as? Conv2d)?.computesInputGradient = true
        let reference = layerByLayer(written, images, mode: .train(), logitsGradient: gradient)
        #expect(digest(logits) == digest(reference.logits))
        #expect(digest(inputGradient) == reference.inputGradient.map(digest))
        for (mine, theirs) in zip(fused.namedParameters, written.namedParameters) {
            #expect(digest(mine.parameter.grad) == digest(theirs.parameter.grad), "\(mine.name)")
        }
    }

    private func stem() -> Model {
        var generator = SeededGenerator(seed: 12)
        let root = Sequential([
            (name: "conv1", layer: Conv2d(1, 4, kernel: 7, stride: 2, padding: 3, using: &generator)),
            (name: nil, layer: ReLU()), (name: nil, layer: MaxPool2d(kernel: 3, stride: 2, padding: 1)),
            (name: nil, layer: Flatten()), (name: "fc", layer: Linear(4 * 7 * 7, 10, using: &generator)),
        ])
        return Model(architecture: "stem", inputShape: [1, 28, 28], classCount: 10, root: root)
    }

    /// Inference runs a convolution, its ReLU and its max-pool image by image (`Conv2d.forwardPooledReLU`): the
    /// bits of the layers one by one in the written order, as with activations kept (`.eval`, layer by layer).
    /// Planes of odd width, and a tapped convolution, go through the layers one by one.
    @Test func convolutionReLUAndPoolImageByImageGiveTheBitsOfTheLayers() {
        let model = ModelZoo.fmnistCNN(seed: 4)
        var generator = SeededGenerator(seed: 8)
        let images = Tensor.normal(shape: [70, 1, 28, 28], using: &generator)
        let written = digest(layerByLayer(model, images, mode: .inference, logitsGradient: nil).logits)
        #expect(digest(model.forward(images, mode: .inference)) == written)
        #expect(digest(model.forward(images, mode: .eval)) == written)

        let conv = Conv2d(2, 3, kernel: 3, using: &generator)
        let odd = Sequential([
            (name: "conv", layer: conv), (name: nil, layer: ReLU()), (name: "pool", layer: MaxPool2d(kernel: 2)),
        ])
        let input = Tensor.normal(shape: [5, 2, 9, 9], using: &generator)
        let oddModel = Model(architecture: "probe", inputShape: [2, 9, 9], classCount: 1, root: odd)
        let pooled = oddModel.forward(input, mode: .inference)
        #expect(
            pooled.shape == [5, 3, 3, 3]
                && digest(pooled) == digest(layerByLayer(oddModel, input, mode: .eval, logitsGradient: nil).logits))

        let tap = FeatureTap(paths: ["conv1"])
        let tapped = model.forward(images, mode: .inference, tap: tap)
        #expect(
            tap.features["conv1"]?.shape == [70, 32, 28, 28]
                && digest(tapped) == written
        )
    }

    /// The pooled path's max-pool (C, with the bias added as it reads) keeps the layers' bits on planes narrower
    /// than eight pooled columns and wider ones whose last vector overlaps, with NaNs and ties, with and without a
    /// bias.
    @Test(arguments: [12, 20, 26], [true, false])
    func pooledConvolutionKeepsTheLayersBitsOnAwkwardValues(size: Int, biased: Bool) {
        var generator = SeededGenerator(seed: UInt64(size))
        let conv = Conv2d(2, 4, kernel: 3, padding: 1, bias: biased, using: &generator)
        // A channel of zero weights: all its outputs tie (+0, or the bias).
        conv.weight.value.withUnsafeMutableBufferPointer { $0.baseAddress!.update(repeating: 0, count: 18) }
        var input = Tensor.normal(shape: [3, 2, size, size], using: &generator)
        input.withUnsafeMutableBufferPointer { x in
            for index in [5, size * size - 2 * size, 2 * size * size - 7] { x[index] = .nan }
        }
        let model = Model(
            architecture: "probe", inputShape: [2, size, size], classCount: 1,
            root: Sequential([
                (name: "conv", layer: conv), (name: nil, layer: ReLU()), (name: "pool", layer: MaxPool2d(kernel: 2)),
            ]))
        let pooled = model.forward(input, mode: .inference)
        let layers = layerByLayer(model, input, mode: .eval, logitsGradient: nil).logits
        #expect(pooled.shape == [3, 4, size / 2, size / 2])
        #expect(bits(pooled) == bits(layers))
    }

    /// Training through a convolution, its ReLU and max-pool pools as it computes (`Conv2d.forwardPooledTraining`:
    /// in Winograd's output transform with 8 channels, four lines at a time when run directly with 2 on heights
    /// that are a multiple of 4; others through the layers): the pooled values, the input gradient and the
    /// parameter gradients are the bits of the layers in the written order, with NaNs and a channel of tied outputs,
    /// on planes of odd height too.
    @Test(arguments: [(16, 16), (20, 20), (26, 26), (15, 14), (21, 18)], [(2, true), (8, false), (8, true)])
    func pooledTrainingKeepsTheLayersBitsOnAwkwardValues(
        size: (height: Int, width: Int), conv: (channels: Int, biased: Bool)
    ) {
        let (height, width, channels) = (size.height, size.width, conv.channels)
        var generator = SeededGenerator(seed: UInt64(100 * height + width + channels))
        let layer = Conv2d(channels, 8, kernel: 3, padding: 1, bias: conv.biased, using: &generator)
        layer.weight.value.withUnsafeMutableBufferPointer { $0.baseAddress!.update(repeating: 0, count: 9 * channels) }
        var input = Tensor.normal(shape: [3, channels, height, width], using: &generator)
        input.withUnsafeMutableBufferPointer { x in
            for index in [5, height * width - 2 * width, 2 * height * width - 7] { x[index] = .nan }
        }
        func model() -> Model {
            Model(
                architecture: "probe", inputShape: [channels, height, width], classCount: 1,
                root: Sequential([
                    (name: "conv", layer: layer.copy()), (name: nil, layer: ReLU()),
                    (name: "pool", layer: MaxPool2d(kernel: 2)),
                ]))
        }
        let (fused, written) = (model(), model())
        let pooled = fused.forward(input, mode: .train())
        let gradient = Tensor.normal(shape: pooled.shape, using: &generator)
        let inputGradient = fused.backward(gradient, inputGradient: true)
        (written.root.children.first?.layer as? Conv2d)?.computesInputGradient = true
        let reference = layerByLayer(written, input, mode: .train(), logitsGradient: gradient)
        #expect(bits(pooled) == bits(reference.logits))
        #expect(bits(inputGradient) == reference.inputGradient.map(bits))
        for (mine, theirs) in zip(fused.namedParameters, written.namedParameters) {
            #expect(bits(mine.parameter.grad) == bits(theirs.parameter.grad), "\(mine.name)")
        }
    }

    @Test func aTappedReLUKeepsItsOrderAndFeatures() {
        var generator = SeededGenerator(seed: 5)
        let block = Sequential([(name: "act", layer: ReLU()), (name: "pool", layer: MaxPool2d(kernel: 2))])
        let tap = FeatureTap(paths: ["act", "pool"])
        let input = Tensor.normal(shape: [2, 3, 6, 6], using: &generator)
        let model = Model(architecture: "probe", inputShape: [3, 6, 6], classCount: 1, root: block)
        let pooled = model.forward(input, mode: .inference, tap: tap)
        #expect(tap.features["act"]?.shape == [2, 3, 6, 6] && tap.features["pool"]?.shape == [2, 3, 3, 3])
        #expect(bits(pooled) == tap.features["pool"].map(bits))
        #expect(pooled.scalars.allSatisfy { $0 >= 0 })
    }
}
