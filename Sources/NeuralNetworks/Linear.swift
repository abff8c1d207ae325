/// y = x·Wᵀ + b, with W stored `[outputCount, inputCount]` as in PyTorch.
public final class Linear: Module, Layer {
    public let weight: Tensor
    public let bias: Tensor?

    /// PyTorch's default initialisation: weight and bias uniform in ±1/√inputCount.
    public init(inputCount: Int, outputCount: Int, bias: Bool = true, dtype: DType = .float32, using generator: inout RandomGenerator) {
        weight = parameter(Initialization.pytorchDefault([outputCount, inputCount], fanIn: inputCount, dtype: dtype, using: &generator))
        self.bias = bias ? parameter(Initialization.pytorchDefault([outputCount], fanIn: inputCount, dtype: dtype, using: &generator)) : nil
    }

    public override var ownParameters: [(name: String, tensor: Tensor)] {
        Module.weightAndBias(weight, bias)
    }

    /// `[…, inputCount]` → `[…, outputCount]`.
    public func callAsFunction(_ input: Tensor) -> Tensor {
        require(input.rank >= 1 && input.shape[input.rank - 1] == weight.shape[1],
                "Linear(\(weight.shape[1]) → \(weight.shape[0])): input \(input.shape) does not end in \(weight.shape[1])")
        let product = input.matmul(weight.transposed())      // [..., outputCount]
        return bias.map { product + $0 } ?? product
    }
}
