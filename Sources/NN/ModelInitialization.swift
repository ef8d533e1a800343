import Tensor

/// Initialisations that differ from a layer's PyTorch default.
enum ModelInitialization {
    /// torchvision ResNet convolutions: no bias, Kaiming-normal weights (fan_out, ReLU gain).
    static func resnetConv(
        _ inPlanes: Int, _ planes: Int, kernel: Int, stride: Int, using generator: inout SeededGenerator
    ) -> Conv2d {
        let std = (2 / Float(planes * kernel * kernel)).squareRoot()
        let weight = Tensor.normal(shape: [planes, inPlanes, kernel, kernel], std: std, using: &generator)
        return Conv2d(weight: weight, bias: nil, stride: stride, padding: kernel / 2)
    }
}
