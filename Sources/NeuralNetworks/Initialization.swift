/// Weight initialisation, as PyTorch does it by default and as DCGAN prescribes.
public enum Initialization {
    /// PyTorch's default for Linear and Conv weights and biases: uniform in ±1/√fanIn
    /// (what `kaiming_uniform_(a=√5)` reduces to, and the bias rule).
    public static func pytorchDefault(_ shape: [Int], fanIn: Int, dtype: DType = .float32,
                                      using generator: inout RandomGenerator) -> Tensor {
        let bound = fanIn > 0 ? 1 / Double(fanIn).squareRoot() : 0
        return Tensor.randomUniform(shape, low: -bound, high: bound, dtype: dtype, using: &generator)
    }

    /// Overwrites `tensor` with samples of N(mean, standardDeviation²).
    public static func fillNormal(_ tensor: Tensor, mean: Double = 0, standardDeviation: Double,
                                  using generator: inout RandomGenerator) {
        tensor.assign(Tensor.randomNormal(tensor.shape, mean: mean, standardDeviation: standardDeviation,
                                          dtype: tensor.dtype, using: &generator))
    }

    /// The DCGAN paper's initialisation: convolution weights from N(0, 0.02²), BatchNorm scales from
    /// N(1, 0.02²) and BatchNorm shifts 0. Walks every sub-module.
    public static func dcgan(_ module: Module, using generator: inout RandomGenerator) {
        switch module {
        case let conv as Conv2d: fillNormal(conv.weight, standardDeviation: 0.02, using: &generator)
        case let conv as ConvTranspose2d: fillNormal(conv.weight, standardDeviation: 0.02, using: &generator)
        case let norm as BatchNorm2d:
            fillNormal(norm.weight, mean: 1, standardDeviation: 0.02, using: &generator)
            norm.bias.assign(norm.bias.filled(with: 0))
        default: break
        }
        for child in module.children { dcgan(child.module, using: &generator) }
    }
}
