import Foundation
import NeuralNetworks

/// The sinusoidal embedding of diffusion steps or continuous times t: for frequencies
/// fᵢ = 10000^(−i/half), i = 0…half−1, the vector [sin(t·f₀) … sin(t·f_{half−1}), cos(t·f₀) … cos(t·f_{half−1})].
/// Computed in Double, then converted, as the PyTorch twin in `Scripts/pytorch_models.py` does.
public func sinusoidalEmbedding(_ times: [Double], dimension: Int = 64, dtype: DType = .float32) -> Tensor {
    require(dimension % 2 == 0, "sinusoidalEmbedding: dimension must be even, got \(dimension)")
    let half = dimension / 2
    let frequencies = (0..<half).map { Foundation.pow(10000.0, -Double($0) / Double(half)) }
    let values = times.flatMap { t -> [Double] in
        let angles = frequencies.map { t * $0 }
        return angles.map { Foundation.sin($0) } + angles.map { Foundation.cos($0) }
    }
    return Tensor(values, shape: [times.count, dimension], dtype: dtype)
}

/// The embedding of integer diffusion steps.
public func sinusoidalEmbedding(_ steps: [Int], dimension: Int = 64, dtype: DType = .float32) -> Tensor {
    sinusoidalEmbedding(steps.map(Double.init), dimension: dimension, dtype: dtype)
}

/// The embedding of a `[B]` tensor of times, in its dtype. It is an input to a network, so no
/// gradient flows back into the times.
public func sinusoidalEmbedding(_ times: Tensor, dimension: Int = 64) -> Tensor {
    require(times.rank == 1, "sinusoidalEmbedding: times must be a [B] tensor, got \(times.shape)")
    return sinusoidalEmbedding(times.doubles, dimension: dimension, dtype: times.dtype)
}

/// A residual block that knows the time: GroupNorm → SiLU → 3×3 conv, plus a projection of the
/// time embedding added to every pixel, → GroupNorm → SiLU → 3×3 conv, plus the input (through a
/// 1×1 convolution when the channel count changes).
public final class TimeResidualBlock: Module {
    public let norm1: GroupNorm, conv1: Conv2d, timeProjection: Linear, norm2: GroupNorm, conv2: Conv2d
    public let skip: Conv2d?

    public init(inputChannels: Int, outputChannels: Int, timeDimension: Int = 128, groups: Int = 8, dtype: DType = .float32,
                using generator: inout RandomGenerator) {
        norm1 = GroupNorm(groupCount: groups, channelCount: inputChannels, dtype: dtype)
        conv1 = Conv2d(inputChannels: inputChannels, outputChannels: outputChannels, kernelSize: 3, padding: 1, dtype: dtype, using: &generator)
        timeProjection = Linear(inputCount: timeDimension, outputCount: outputChannels, dtype: dtype, using: &generator)
        norm2 = GroupNorm(groupCount: groups, channelCount: outputChannels, dtype: dtype)
        conv2 = Conv2d(inputChannels: outputChannels, outputChannels: outputChannels, kernelSize: 3, padding: 1, dtype: dtype, using: &generator)
        skip = inputChannels == outputChannels ? nil
            : Conv2d(inputChannels: inputChannels, outputChannels: outputChannels, kernelSize: 1, dtype: dtype, using: &generator)
    }

    public override var children: [(name: String, module: Module)] {
        [("norm1", norm1), ("conv1", conv1), ("temb", timeProjection), ("norm2", norm2), ("conv2", conv2)]
            + (skip.map { [("skip", $0 as Module)] } ?? [])
    }

    /// `[B, Cin, H, W]` and the shared time embedding `[B, T]` → `[B, Cout, H, W]`.
    public func callAsFunction(_ x: Tensor, time: Tensor) -> Tensor {
        var h = conv1(norm1(x).silu())                                                        // [B, Cout, H, W]
        h = h + timeProjection(time.silu()).reshaped([x.shape[0], -1, 1, 1])
        h = conv2(norm2(h).silu())
        return h + (skip.map { $0(x) } ?? x)
    }
}

/// The small U-Net of the diffusion chapter, for 28×28 one-channel images: a 28 → 14 → 7 encoder,
/// two residual blocks at 7×7, and a decoder that upsamples back while concatenating the
/// encoder's activations at the same size (the skip connections). It predicts the noise ε in x_t.
///
/// Its channel counts are `width`, 2·`width` and 4·`width` at 28, 14 and 7 pixels; `width` 32 is
/// the `ddpm-step` benchmark workload's network (973,249 parameters). Halving `width` divides the
/// convolutions' work by about four.
public final class TinyUNet: Module, ConfigurableModel {
    public let configuration: Configuration
    public let timeEmbedding1: Linear, timeEmbedding2: Linear
    public let inputConvolution: Conv2d
    public let down1Block: TimeResidualBlock, down1: Conv2d
    public let down2Block: TimeResidualBlock, down2: Conv2d
    public let middle1: TimeResidualBlock, middle2: TimeResidualBlock
    public let up1Convolution: Conv2d, up1Block: TimeResidualBlock
    public let up2Convolution: Conv2d, up2Block: TimeResidualBlock
    public let outputNorm: GroupNorm, outputConvolution: Conv2d
    public let classEmbedding: Embedding?
    /// The side of the square images it takes: its encoder halves 28 to 14 to 7.
    public static let imageSize = 28

    /// With `classCount`, a learned class embedding (plus one "no class" row, index `classCount`,
    /// for classifier-free guidance) is added to the time embedding. `schedule` is the noise the
    /// network learns to remove, and `sampler` how `Sample` draws from it unless told otherwise; both
    /// are kept in its configuration, so a checkpoint says how to sample from it.
    public init(imageChannels: Int = 1, width: Int = 32, classCount: Int = 0,
                schedule: NoiseSchedule.Recipe = NoiseSchedule.linear().recipe, sampler: GaussianDiffusion.Sampler = .ddim(steps: 50),
                using generator: inout RandomGenerator) {
        require(width > 0 && width % 8 == 0, "TinyUNet: width must be a positive multiple of 8 (GroupNorm uses 8 groups), got \(width)")
        configuration = Configuration(imageChannels: imageChannels, width: width, classCount: classCount, schedule: schedule, sampler: sampler)
        let (c1, c2, c3) = (width, 2 * width, 4 * width)
        timeEmbedding1 = Linear(inputCount: 64, outputCount: 128, using: &generator)
        timeEmbedding2 = Linear(inputCount: 128, outputCount: 128, using: &generator)
        inputConvolution = Conv2d(inputChannels: imageChannels, outputChannels: c1, kernelSize: 3, padding: 1, using: &generator)
        down1Block = TimeResidualBlock(inputChannels: c1, outputChannels: c1, using: &generator)
        down1 = Conv2d(inputChannels: c1, outputChannels: c1, kernelSize: 3, stride: 2, padding: 1, using: &generator)
        down2Block = TimeResidualBlock(inputChannels: c1, outputChannels: c2, using: &generator)
        down2 = Conv2d(inputChannels: c2, outputChannels: c2, kernelSize: 3, stride: 2, padding: 1, using: &generator)
        middle1 = TimeResidualBlock(inputChannels: c2, outputChannels: c3, using: &generator)
        middle2 = TimeResidualBlock(inputChannels: c3, outputChannels: c3, using: &generator)
        up1Convolution = Conv2d(inputChannels: c3, outputChannels: c2, kernelSize: 3, padding: 1, using: &generator)
        up1Block = TimeResidualBlock(inputChannels: c3, outputChannels: c2, using: &generator)
        up2Convolution = Conv2d(inputChannels: c2, outputChannels: c1, kernelSize: 3, padding: 1, using: &generator)
        up2Block = TimeResidualBlock(inputChannels: c2, outputChannels: c1, using: &generator)
        outputNorm = GroupNorm(groupCount: 8, channelCount: c1)
        outputConvolution = Conv2d(inputChannels: c1, outputChannels: imageChannels, kernelSize: 3, padding: 1, using: &generator)
        classEmbedding = classCount > 0 ? Embedding(count: classCount + 1, dimension: 128, using: &generator) : nil
    }

    /// The names of its PyTorch twin in `Scripts/pytorch_models.py`: `t1`, `conv_in`, `rb_d1.norm1`, `up_conv1`, `conv_out`, …
    public override var children: [(name: String, module: Module)] {
        [("t1", timeEmbedding1), ("t2", timeEmbedding2), ("conv_in", inputConvolution), ("rb_d1", down1Block), ("down1", down1),
         ("rb_d2", down2Block), ("down2", down2), ("rb_m1", middle1), ("rb_m2", middle2), ("up_conv1", up1Convolution),
         ("rb_u1", up1Block), ("up_conv2", up2Convolution), ("rb_u2", up2Block), ("norm_out", outputNorm), ("conv_out", outputConvolution)]
            + (classEmbedding.map { [("class_embedding", $0 as Module)] } ?? [])
    }

    /// Predicts the noise in `x` (`[B, C, 28, 28]`) at integer steps `timesteps` (and, if
    /// conditional, for `labels`, where `classCount` means "no class").
    public func callAsFunction(_ x: Tensor, timesteps: [Int], labels: [Int]? = nil) -> Tensor {
        self(x, times: timesteps.map(Double.init), labels: labels)
    }

    /// The network at continuous times, on the embedding's scale (diffusion steps 0…1000): what a
    /// flow-matching model (``FlowUNet``) calls with its times in [0, 1] stretched.
    public func callAsFunction(_ x: Tensor, times: [Double], labels: [Int]? = nil) -> Tensor {
        require(x.rank == 4 && x.shape[2] == Self.imageSize && x.shape[3] == Self.imageSize && times.count == x.shape[0],
                "TinyUNet: expected [B, C, 28, 28] with B times, got \(x.shape) and \(times.count)")
        var time = timeEmbedding2(timeEmbedding1(sinusoidalEmbedding(times, dtype: x.dtype)).silu())   // [B, 128]
        if let classEmbedding {
            guard let labels, labels.count == times.count else { fatalError("TinyUNet: a conditional model needs one label per image") }
            time = time + classEmbedding(labels)
        }
        let h0 = inputConvolution(x)                                                  // [B, 32, 28, 28]
        let skip1 = down1Block(h0, time: time)                                        // [B, 32, 28, 28]
        let skip2 = down2Block(down1(skip1), time: time)                              // [B, 64, 14, 14]
        var h = middle1(down2(skip2), time: time)                                     // [B, 128, 7, 7]
        h = middle2(h, time: time)
        h = up1Convolution(h.upsampledNearest(scale: 2))                              // [B, 64, 14, 14]
        h = up1Block(Tensor.concatenate([h, skip2], alongAxis: 1), time: time)        // [B, 64, 14, 14]
        h = up2Convolution(h.upsampledNearest(scale: 2))                              // [B, 32, 28, 28]
        h = up2Block(Tensor.concatenate([h, skip1], alongAxis: 1), time: time)        // [B, 32, 28, 28]
        return outputConvolution(outputNorm(h).silu())                                // [B, C, 28, 28]
    }
}

extension TinyUNet {
    /// What builds a ``TinyUNet`` and samples from it. With classes, label `classCount` is "no
    /// class", the null label of classifier-free guidance.
    public struct Configuration: ModelConfiguration {
        public static let kind = "TinyUNet"
        public var imageChannels: Int, width: Int, classCount: Int
        /// The noise schedule the network was trained for.
        public var schedule: NoiseSchedule.Recipe
        /// The sampler to draw with when none is asked for.
        public var sampler: GaussianDiffusion.Sampler

        public init(imageChannels: Int = 1, width: Int = 32, classCount: Int = 0,
                    schedule: NoiseSchedule.Recipe = NoiseSchedule.linear().recipe, sampler: GaussianDiffusion.Sampler = .ddim(steps: 50)) {
            (self.imageChannels, self.width, self.classCount) = (imageChannels, width, classCount)
            (self.schedule, self.sampler) = (schedule, sampler)
        }

        public func validate() throws {
            try check(imageChannels: imageChannels)
            try check(unetWidth: width)
            try check(classCount: classCount)
            if let problem = schedule.problem { try check(false, problem) }
            if case .ddim(let steps) = sampler {
                try check((1...schedule.stepCount).contains(steps), "a DDIM sampler needs 1…\(schedule.stepCount) steps, got \(steps)")
            }
        }
    }

    public convenience init(_ configuration: Configuration, using generator: inout RandomGenerator) {
        self.init(imageChannels: configuration.imageChannels, width: configuration.width, classCount: configuration.classCount,
                  schedule: configuration.schedule, sampler: configuration.sampler, using: &generator)
    }

    /// The diffusion process the network was trained for: its noise schedule's forward process and samplers.
    public var diffusion: GaussianDiffusion { GaussianDiffusion(schedule: NoiseSchedule(configuration.schedule)) }
}

extension ModelConfiguration {
    /// A ``TinyUNet`` width: a multiple of 8 (its GroupNorms use 8 groups) from 8 to 256.
    func check(unetWidth width: Int) throws {
        try check((8...256).contains(width) && width % 8 == 0, "width must be a multiple of 8 from 8 to 256 (GroupNorm uses 8 groups), got \(width)")
    }
}
