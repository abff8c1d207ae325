// MARK: - Parameter-free layers

/// max(x, 0).
public final class ReLU: Module, Layer {
    public override init() {}
    public func callAsFunction(_ input: Tensor) -> Tensor { input.relu() }
}

/// x for x > 0, negativeSlope·x otherwise (PyTorch's default slope is 0.01; DCGAN uses 0.2).
public final class LeakyReLU: Module, Layer {
    public let negativeSlope: Double
    public init(negativeSlope: Double = 0.01) { self.negativeSlope = negativeSlope }
    public func callAsFunction(_ input: Tensor) -> Tensor { input.leakyRelu(slope: negativeSlope) }
}

/// The hyperbolic tangent: squashes into (−1, 1), the range of images scaled to [−1, 1].
public final class Tanh: Module, Layer {
    public override init() {}
    public func callAsFunction(_ input: Tensor) -> Tensor { input.tanh() }
}

/// The logistic function: squashes into (0, 1), a probability.
public final class Sigmoid: Module, Layer {
    public override init() {}
    public func callAsFunction(_ input: Tensor) -> Tensor { input.sigmoid() }
}

/// x·sigmoid(x), the smooth activation of diffusion U-Nets.
public final class SiLU: Module, Layer {
    public override init() {}
    public func callAsFunction(_ input: Tensor) -> Tensor { input.silu() }
}

/// The exact GELU, x·Φ(x).
public final class GELU: Module, Layer {
    public override init() {}
    public func callAsFunction(_ input: Tensor) -> Tensor { input.gelu() }
}

/// Flattens every axis from `startAxis` on: `[N, C, H, W]` → `[N, C·H·W]` by default.
public final class Flatten: Module, Layer {
    public let startAxis: Int
    public init(startAxis: Int = 1) { self.startAxis = startAxis }
    public func callAsFunction(_ input: Tensor) -> Tensor { input.flattened(from: startAxis) }
}

/// Nearest-neighbour upsampling by an integer factor (PyTorch's `nn.Upsample(scale_factor:)`).
public final class Upsample: Module, Layer {
    public let scale: Int
    public init(scale: Int) { self.scale = scale }
    public func callAsFunction(_ input: Tensor) -> Tensor { input.upsampledNearest(scale: scale) }
}

/// Average pooling over `kernelSize`×`kernelSize` windows (PyTorch's `nn.AvgPool2d`; the stride
/// defaults to the window, and padding counts as zeros in the average).
public final class AvgPool2d: Module, Layer {
    public let kernelSize: Int, stride: Int, padding: Int
    public init(kernelSize: Int, stride: Int? = nil, padding: Int = 0) {
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
        self.padding = padding
    }
    public func callAsFunction(_ input: Tensor) -> Tensor { input.avgPool2d(kernel: kernelSize, stride: stride, padding: padding) }
}

/// Zeroes each element with probability `probability` while training and scales the survivors by
/// 1/(1 − p), so the expected value is unchanged; the identity in evaluation.
public final class Dropout: Module, Layer {
    public let probability: Double
    private var generator: RandomGenerator

    public init(probability: Double = 0.5, seed: UInt64) {
        require(probability >= 0 && probability < 1, "Dropout: probability must be in [0, 1), got \(probability)")
        self.probability = probability
        generator = RandomGenerator(seed: seed)
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        guard isTraining && probability > 0 else { return input }
        let keep = Tensor.randomBernoulli(input.shape, probability: 1 - probability, dtype: input.dtype, using: &generator)
        return input * keep * (1 / (1 - probability))
    }
}

/// A lookup table of `count` learned vectors (PyTorch's `nn.Embedding`, initialised from N(0, 1)).
public final class Embedding: Module {
    public let weight: Tensor

    public init(count: Int, dimension: Int, dtype: DType = .float32, using generator: inout RandomGenerator) {
        weight = parameter(Tensor.randomNormal([count, dimension], dtype: dtype, using: &generator))
    }

    public override var ownParameters: [(name: String, tensor: Tensor)] { [("weight", weight)] }

    /// The vectors of `indices`, as `[indices.count, dimension]`.
    public func callAsFunction(_ indices: [Int]) -> Tensor { weight.gatheringRows(indices) }
}

/// Layers applied one after another; children are named "0", "1", … as in PyTorch.
public final class Sequential: Module, Layer {
    public let layers: [any Layer]

    public init(_ layers: [any Layer]) { self.layers = layers }

    public override var children: [(name: String, module: Module)] {
        layers.enumerated().map { (String($0.offset), $0.element as Module) }
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        layers.reduce(input) { $1($0) }
    }
}
