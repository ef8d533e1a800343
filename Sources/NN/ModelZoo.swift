import Tensor

/// Built-in architectures, with exactly the parameter names of their PyTorch definitions.
public enum ModelZoo {
    public static let builtInNames = ["fmnist-mlp", "fmnist-cnn", "resnet18"]

    /// `fmnist-cnn`: conv1(1→32, 3, pad 1) → ReLU → MaxPool 2 → conv2(32→64, 3, pad 1) → ReLU → MaxPool 2 →
    /// flatten → fc1(3136→128) → ReLU → fc2(128→10). With `regressionOutputs` k, fc2 is 128→k and the model is a
    /// regression model (`fmnist-cnn:regression=k`).
    public static func fmnistCNN(seed: UInt64, regressionOutputs: Int? = nil) -> Model {
        var generator = SeededGenerator(seed: seed, stream: "init")
        let root = Sequential([
            ("conv1", Conv2d(1, 32, kernel: 3, padding: 1, using: &generator)),
            (nil, ReLU()), (nil, MaxPool2d(kernel: 2)),
            ("conv2", Conv2d(32, 64, kernel: 3, padding: 1, using: &generator)),
            (nil, ReLU()), (nil, MaxPool2d(kernel: 2)),
            (nil, Flatten()),
            ("fc1", Linear(3136, 128, using: &generator)), (nil, ReLU()),
            ("fc2", Linear(128, regressionOutputs ?? 10, using: &generator)),
        ])
        return headed(
            Model(architecture: "fmnist-cnn", inputShape: [1, 28, 28], classCount: 10, root: root), regressionOutputs)
    }

    /// `fmnist-mlp`: flatten → fc1(784→256) → ReLU → fc2(256→128) → ReLU → fc3(128→10), or 128→k as a regression
    /// model (`fmnist-mlp:regression=k`).
    public static func fmnistMLP(seed: UInt64, regressionOutputs: Int? = nil) -> Model {
        var generator = SeededGenerator(seed: seed, stream: "init")
        let root = Sequential([
            (nil, Flatten()),
            ("fc1", Linear(784, 256, using: &generator)), (nil, ReLU()),
            ("fc2", Linear(256, 128, using: &generator)), (nil, ReLU()),
            ("fc3", Linear(128, regressionOutputs ?? 10, using: &generator)),
        ])
        return headed(
            Model(architecture: "fmnist-mlp", inputShape: [1, 28, 28], classCount: 10, root: root), regressionOutputs)
    }

    /// `model` as it is, or (with `regressionOutputs` k) as the regression model `<name>:regression=k`.
    private static func headed(_ model: Model, _ regressionOutputs: Int?) -> Model {
        guard let outputs = regressionOutputs else { return model }
        return Model(
            architecture: "\(model.architecture):regression=\(outputs)", inputShape: model.inputShape,
            classCount: outputs, root: model.root, head: .regression(outputs: outputs))
    }

    /// ResNet-18 with a CIFAR stem (3×3 stride-1 conv, no max-pool) and base `width` (64 in the paper).
    public static func resnet18(
        seed: UInt64, width: Int = 64, classes: Int = 10, inputShape: [Int] = [3, 32, 32]
    ) -> Model {
        var generator = SeededGenerator(seed: seed, stream: "init")
        var children: [(name: String?, layer: Layer)] = [
            ("conv1", ModelInitialization.resnetConv(inputShape[0], width, kernel: 3, stride: 1, using: &generator)),
            ("bn1", BatchNorm2d(width)),
            (nil, ReLU()),
        ]
        var inPlanes = width
        for (index, multiplier) in [1, 2, 4, 8].enumerated() {
            let planes = width * multiplier
            let first = BasicBlock(inPlanes: inPlanes, planes: planes, stride: index == 0 ? 1 : 2, using: &generator)
            let second = BasicBlock(inPlanes: planes, planes: planes, stride: 1, using: &generator)
            children.append(("layer\(index + 1)", Sequential([("0", first), ("1", second)])))
            inPlanes = planes
        }
        children += [
            (nil, AdaptiveAvgPool2d()), (nil, Flatten()), ("fc", Linear(inPlanes, classes, using: &generator)),
        ]
        let name = width == 64 ? "resnet18" : "resnet18:width=\(width)"
        return Model(architecture: name, inputShape: inputShape, classCount: classes, root: Sequential(children))
    }
}
