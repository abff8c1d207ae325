/// A 2-D convolution layer (PyTorch's `nn.Conv2d`); weight `[outputChannels, inputChannels, k, k]`.
public final class Conv2d: Module, Layer {
    public let weight: Tensor
    public let bias: Tensor?
    public let stride: Int, padding: Int

    /// PyTorch's default initialisation: uniform in ±1/√(inputChannels·k²).
    public init(inputChannels: Int, outputChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                bias: Bool = true, dtype: DType = .float32, using generator: inout RandomGenerator) {
        let fanIn = inputChannels * kernelSize * kernelSize
        weight = parameter(Initialization.pytorchDefault([outputChannels, inputChannels, kernelSize, kernelSize], fanIn: fanIn, dtype: dtype, using: &generator))
        self.bias = bias ? parameter(Initialization.pytorchDefault([outputChannels], fanIn: fanIn, dtype: dtype, using: &generator)) : nil
        self.stride = stride
        self.padding = padding
    }

    public override var ownParameters: [(name: String, tensor: Tensor)] {
        Module.weightAndBias(weight, bias)
    }

    /// `[N, inputChannels, H, W]` → `[N, outputChannels, H', W']`.
    public func callAsFunction(_ input: Tensor) -> Tensor {
        input.conv2d(weight: weight, bias: bias, stride: stride, padding: padding)
    }
}

/// A transposed convolution layer (PyTorch's `nn.ConvTranspose2d`); weight `[inputChannels, outputChannels, k, k]`.
/// It upsamples: output size (H − 1)·stride − 2·padding + k + outputPadding.
public final class ConvTranspose2d: Module, Layer {
    public let weight: Tensor
    public let bias: Tensor?
    public let stride: Int, padding: Int, outputPadding: Int

    /// PyTorch's default initialisation, whose fan-in for this layout is outputChannels·k².
    public init(inputChannels: Int, outputChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                outputPadding: Int = 0, bias: Bool = true, dtype: DType = .float32, using generator: inout RandomGenerator) {
        let fanIn = outputChannels * kernelSize * kernelSize
        weight = parameter(Initialization.pytorchDefault([inputChannels, outputChannels, kernelSize, kernelSize], fanIn: fanIn, dtype: dtype, using: &generator))
        self.bias = bias ? parameter(Initialization.pytorchDefault([outputChannels], fanIn: fanIn, dtype: dtype, using: &generator)) : nil
        self.stride = stride
        self.padding = padding
        self.outputPadding = outputPadding
    }

    public override var ownParameters: [(name: String, tensor: Tensor)] {
        Module.weightAndBias(weight, bias)
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        input.convTranspose2d(weight: weight, bias: bias, stride: stride, padding: padding, outputPadding: outputPadding)
    }
}
