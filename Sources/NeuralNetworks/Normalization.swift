/// Batch normalisation over `[N, C, H, W]` (PyTorch's `nn.BatchNorm2d`).
///
/// Training: normalise each channel with the batch's mean and (biased) variance, and move the
/// running statistics toward the batch's (unbiased variance) by `momentum`. Evaluation: use the
/// running statistics instead.
public final class BatchNorm2d: Module, Layer {
    public let weight: Tensor, bias: Tensor
    public let runningMean: Tensor, runningVariance: Tensor
    /// How many training batches have updated the running statistics.
    public let batchesTracked: Tensor
    public let epsilon: Double, momentum: Double

    public init(featureCount: Int, epsilon: Double = 1e-5, momentum: Double = 0.1, dtype: DType = .float32) {
        weight = parameter(Tensor.ones([featureCount], dtype: dtype))
        bias = parameter(Tensor.zeros([featureCount], dtype: dtype))
        runningMean = Tensor.zeros([featureCount], dtype: dtype)
        runningVariance = Tensor.ones([featureCount], dtype: dtype)
        batchesTracked = Tensor.zeros([], dtype: dtype)
        self.epsilon = epsilon
        self.momentum = momentum
    }

    public override var ownParameters: [(name: String, tensor: Tensor)] { [("weight", weight), ("bias", bias)] }
    public override var ownBuffers: [(name: String, tensor: Tensor)] {
        [("running_mean", runningMean), ("running_var", runningVariance), ("num_batches_tracked", batchesTracked)]
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        require(input.rank == 4 && input.shape[1] == weight.count,
                "BatchNorm2d(\(weight.count)): expected [N, \(weight.count), H, W], got \(input.shape)")
        let channel = [1, weight.count, 1, 1]
        let scale = weight.reshaped(channel), shift = bias.reshaped(channel)
        guard isTraining else {
            let normalized = (input - runningMean.reshaped(channel)) / (runningVariance.reshaped(channel) + epsilon).sqrt()
            return normalized.multipliedAdding(scale, shift)
        }
        let n = input.count / weight.count
        require(n > 1, "BatchNorm2d: training needs more than one value per channel, got input \(input.shape)")
        let (normalized, mean, variance) = input.batchNormalized(epsilon: epsilon)           // x̂; [C], [C] (biased)
        withoutGradients {
            let unbiased = variance * (Double(n) / Double(n - 1))
            runningMean.assign(runningMean * (1 - momentum) + mean * momentum)
            runningVariance.assign(runningVariance * (1 - momentum) + unbiased * momentum)
            batchesTracked.assign(batchesTracked + 1)
        }
        return normalized.multipliedAdding(scale, shift)
    }
}

/// Group normalisation (PyTorch's `nn.GroupNorm`): channels are split into groups, and each
/// sample's group is normalised by its own mean and variance — no batch statistics, so it behaves
/// the same in training and evaluation and with a batch of one.
public final class GroupNorm: Module, Layer {
    public let weight: Tensor, bias: Tensor
    public let groupCount: Int, epsilon: Double

    public init(groupCount: Int, channelCount: Int, epsilon: Double = 1e-5, dtype: DType = .float32) {
        require(groupCount > 0 && channelCount % groupCount == 0,
                "GroupNorm: \(channelCount) channels do not split into \(groupCount) groups")
        weight = parameter(Tensor.ones([channelCount], dtype: dtype))
        bias = parameter(Tensor.zeros([channelCount], dtype: dtype))
        self.groupCount = groupCount
        self.epsilon = epsilon
    }

    public override var ownParameters: [(name: String, tensor: Tensor)] { [("weight", weight), ("bias", bias)] }

    /// `[N, C, …]` → same shape.
    public func callAsFunction(_ input: Tensor) -> Tensor {
        require(input.rank >= 2 && input.shape[1] == weight.count,
                "GroupNorm(\(groupCount), \(weight.count)): expected [N, \(weight.count), …], got \(input.shape)")
        let normalized = input.groupNormalized(groupCount: groupCount, epsilon: epsilon)
        let channel = [1, weight.count] + [Int](repeating: 1, count: input.rank - 2)
        return normalized.multipliedAdding(weight.reshaped(channel), bias.reshaped(channel))
    }
}

/// Layer normalisation (PyTorch's `nn.LayerNorm`) over the trailing `normalizedShape` axes.
public final class LayerNorm: Module, Layer {
    public let weight: Tensor, bias: Tensor
    public let normalizedShape: [Int], epsilon: Double

    public init(normalizedShape: [Int], epsilon: Double = 1e-5, dtype: DType = .float32) {
        weight = parameter(Tensor.ones(normalizedShape, dtype: dtype))
        bias = parameter(Tensor.zeros(normalizedShape, dtype: dtype))
        self.normalizedShape = normalizedShape
        self.epsilon = epsilon
    }

    public override var ownParameters: [(name: String, tensor: Tensor)] { [("weight", weight), ("bias", bias)] }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        require(Array(input.shape.suffix(normalizedShape.count)) == normalizedShape,
                "LayerNorm(\(normalizedShape)): input \(input.shape) does not end in \(normalizedShape)")
        let axes = Array((input.rank - normalizedShape.count)..<input.rank)
        let mean = input.mean(alongAxes: axes, keepingDimensions: true)
        let centred = input - mean
        let variance = (centred * centred).mean(alongAxes: axes, keepingDimensions: true)
        return centred / (variance + epsilon).sqrt() * weight + bias
    }
}
