import Checkpoint
import LetheTesting
import NN
import Tensor
import Testing

/// Every layer and loss against PyTorch's values in ../shared/fixtures/torch-parity (relative 1e-4,
/// absolute 1e-5, as its README prescribes).
struct TorchParityLayerTests {
    func expectClose(_ actual: Tensor, _ expected: Tensor, _ what: String, relative: Float = 1e-4) {
        let mismatch = Tolerance.mismatch(actual, expected, relative: relative)
        #expect(mismatch == nil, "\(what): \(mismatch ?? "")")
    }

    @Test func linear() throws {
        let f = try Fixtures.torchParity("linear")
        let layer = Linear(weight: try f.required("weight"), bias: try f.required("bias"))
        expectClose(layer.forward(try f.required("x"), mode: .train()), try f.required("y"), "y")
        expectClose(layer.backward(try f.required("dy")), try f.required("dx"), "dx")
        expectClose(layer.weight.grad, try f.required("dweight"), "dweight")
        expectClose(layer.bias!.grad, try f.required("dbias"), "dbias")
    }

    @Test(arguments: ["conv2d_k1_s2_p0", "conv2d_k3_s1_p1", "conv2d_k3_s2_p0", "conv2d_k5_s1_p2", "conv2d_k7_s2_p3"])
    func conv2d(_ name: String) throws {
        let f = try Fixtures.torchParity(name)
        let ksp = try f.required("kernel_stride_padding").scalars.map { Int($0) }
        let layer = Conv2d(
            weight: try f.required("weight"), bias: try f.required("bias"), stride: ksp[1], padding: ksp[2])
        #expect(layer.kernel == ksp[0])
        expectClose(layer.forward(try f.required("x"), mode: .train()), try f.required("y"), "\(name) y")
        expectClose(layer.backward(try f.required("dy")), try f.required("dx"), "\(name) dx")
        expectClose(layer.weight.grad, try f.required("dweight"), "\(name) dweight")
        expectClose(layer.bias!.grad, try f.required("dbias"), "\(name) dbias")
    }

    @Test(arguments: ["maxpool2d_k2_s2_p0", "maxpool2d_k3_s2_p1"])
    func maxPool(_ name: String) throws {
        let f = try Fixtures.torchParity(name)
        let ksp = try f.required("kernel_stride_padding").scalars.map { Int($0) }
        let layer = MaxPool2d(kernel: ksp[0], stride: ksp[1], padding: ksp[2])
        expectClose(layer.forward(try f.required("x"), mode: .train()), try f.required("y"), "\(name) y")
        expectClose(layer.backward(try f.required("dy")), try f.required("dx"), "\(name) dx")
    }

    @Test func adaptiveAvgPool() throws {
        let f = try Fixtures.torchParity("adaptive_avgpool2d_1x1")
        let layer = AdaptiveAvgPool2d()
        expectClose(layer.forward(try f.required("x"), mode: .train()), try f.required("y"), "y")
        expectClose(layer.backward(try f.required("dy")), try f.required("dx"), "dx")
    }

    @Test func batchNorm() throws {
        let f = try Fixtures.torchParity("batchnorm2d")
        let layer = BatchNorm2d(3)
        layer.weight.value = try f.required("weight")
        layer.bias.value = try f.required("bias")
        layer.runningMean.value = try f.required("running_mean_before")
        layer.runningVar.value = try f.required("running_var_before")
        expectClose(layer.forward(try f.required("x"), mode: .train()), try f.required("y_train"), "y_train")
        expectClose(layer.backward(try f.required("dy")), try f.required("dx"), "dx")
        expectClose(layer.weight.grad, try f.required("dweight"), "dweight")
        expectClose(layer.bias.grad, try f.required("dbias"), "dbias")
        expectClose(layer.runningMean.value, try f.required("running_mean_after"), "running_mean_after")
        expectClose(layer.runningVar.value, try f.required("running_var_after"), "running_var_after")
        #expect(layer.batchesTracked.value.scalars == [1])
        expectClose(layer.forward(try f.required("x_eval"), mode: .eval), try f.required("y_eval"), "y_eval")
    }

    @Test func losses() throws {
        let f = try Fixtures.torchParity("losses")
        let logits = try f.required("logits")
        let labels = try f.required("target").scalars.map { Int($0) }
        let scalar = { (t: Tensor) in Tensor(shape: [1], scalars: [t.scalars[0]]) }

        let ce = crossEntropy(logits: logits, labels: labels)
        expectClose(scalar(Tensor(shape: [1], scalars: [ce.value])), try f.required("ce_mean"), "ce_mean")
        expectClose(ce.gradient, try f.required("dlogits_ce_mean"), "dlogits_ce_mean")
        expectClose(Tensor(shape: [6], scalars: ce.perSample), try f.required("ce_per_sample"), "ce_per_sample")

        let smoothed = crossEntropy(logits: logits, labels: labels, labelSmoothing: 0.1)
        expectClose(Tensor(shape: [1], scalars: [smoothed.value]), try f.required("ce_label_smoothing_0_1"), "ce ls")
        expectClose(smoothed.gradient, try f.required("dlogits_ce_label_smoothing_0_1"), "dlogits ce ls")

        let kl = klDivergence(student: logits, teacher: try f.required("teacher_logits"), temperature: 4)
        expectClose(Tensor(shape: [1], scalars: [kl.value]), try f.required("kl_T4_batchmean_times_T2"), "kl")
        expectClose(kl.gradient, try f.required("dlogits_kl_T4"), "dlogits_kl_T4")

        let mse = meanSquaredError(prediction: try f.required("mse_pred"), target: try f.required("mse_target"))
        expectClose(Tensor(shape: [1], scalars: [mse.value]), try f.required("mse_mean"), "mse")
        expectClose(mse.gradient, try f.required("dmse_pred"), "dmse_pred")
    }
}
