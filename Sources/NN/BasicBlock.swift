import Tensor

/// ResNet's basic block (torchvision names): relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)), with the
/// shortcut `downsample` = conv 1×1 + BatchNorm when the stride or the channel count changes.
public final class BasicBlock: Layer {
    let body: Sequential
    let downsample: Sequential?
    private let finalReLU = ReLU()
    var path = "" {
        didSet { body.path = path; downsample?.path = "\(path).downsample" }
    }

    public init(inPlanes: Int, planes: Int, stride: Int, using generator: inout SeededGenerator) {
        body = Sequential([
            ("conv1", ModelInitialization.resnetConv(inPlanes, planes, kernel: 3, stride: stride, using: &generator)),
            ("bn1", BatchNorm2d(planes)),
            (nil, ReLU()),
            ("conv2", ModelInitialization.resnetConv(planes, planes, kernel: 3, stride: 1, using: &generator)),
            ("bn2", BatchNorm2d(planes)),
        ])
        if stride != 1 || inPlanes != planes {
            downsample = Sequential([
                ("0", ModelInitialization.resnetConv(inPlanes, planes, kernel: 1, stride: stride, using: &generator)),
                ("1", BatchNorm2d(planes)),
            ])
        } else {
            downsample = nil
        }
    }

    private init(body: Sequential, downsample: Sequential?) {
        self.body = body
        self.downsample = downsample
    }

    public var sublayers: [Layer] { [body] + (downsample.map { [$0] } ?? []) }

    public var namedState: [(name: String, parameter: Parameter)] {
        body.namedState + (downsample.map { prefixed("downsample", $0.namedState) } ?? [])
    }

    public func copy() -> Layer {
        BasicBlock(body: body.copy() as! Sequential, downsample: downsample?.copy() as? Sequential)
    }

    public func forward(_ input: Tensor, mode: ForwardMode) -> Tensor {
        var sum = body.forward(input, mode: mode)
        sum.add(downsample?.forward(input, mode: mode) ?? input)
        return finalReLU.forward(sum, mode: mode)
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        let gradient = finalReLU.backward(outputGradient)
        var inputGradient = body.backward(gradient)
        inputGradient.add(downsample?.backward(gradient) ?? gradient)
        return inputGradient
    }

    func visitBlocks(_ visit: (Sequential) -> Void) {
        body.visitBlocks(visit)
        downsample?.visitBlocks(visit)
    }
}
