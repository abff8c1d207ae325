import NeuralNetworks

/// The chapter-4 U-Net as a velocity network for flow matching: the same layers, with its time
/// input t ∈ [0, 1] stretched to the embedding's scale (``FlowMatching/timeScale``), so the one
/// architecture serves both objectives. Its PyTorch twin in `Scripts/pytorch_models.py` holds a
/// TinyUNet as `unet`, the name its weights carry here.
public final class FlowUNet: Module, ConfigurableModel {
    public let configuration: Configuration
    public let unet: TinyUNet

    /// With `classCount`, label `classCount` is "no class", for classifier-free guidance.
    /// `sampler` is how `Sample` draws from it unless told otherwise.
    public init(imageChannels: Int = 1, width: Int = 32, classCount: Int = 0, sampler: FlowMatching.Sampler = .heun(steps: 10),
                using generator: inout RandomGenerator) {
        configuration = Configuration(imageChannels: imageChannels, width: width, classCount: classCount, sampler: sampler)
        unet = TinyUNet(imageChannels: imageChannels, width: width, classCount: classCount, using: &generator)
    }

    public override var children: [(name: String, module: Module)] { [("unet", unet)] }

    /// The velocity of `x` (`[B, C, 28, 28]`) at `times` in [0, 1], for `labels` if conditional.
    public func callAsFunction(_ x: Tensor, times: [Double], labels: [Int]? = nil) -> Tensor {
        unet(x, times: times.map { $0 * FlowMatching.timeScale }, labels: labels)
    }

    /// The network as the samplers take it; an unconditional call of a conditional model asks for "no class".
    public var predictor: VelocityPredictor {
        let noClass = configuration.classCount, conditional = unet.classEmbedding != nil
        return { x, times, labels in
            self(x, times: times, labels: conditional ? labels ?? [Int](repeating: noClass, count: x.shape[0]) : nil)
        }
    }
}

extension FlowUNet {
    /// What builds a ``FlowUNet`` and samples from it.
    public struct Configuration: ModelConfiguration {
        public static let kind = "FlowUNet"
        public var imageChannels: Int, width: Int, classCount: Int
        /// The sampler to draw with when none is asked for.
        public var sampler: FlowMatching.Sampler

        public init(imageChannels: Int = 1, width: Int = 32, classCount: Int = 0, sampler: FlowMatching.Sampler = .heun(steps: 10)) {
            (self.imageChannels, self.width, self.classCount, self.sampler) = (imageChannels, width, classCount, sampler)
        }

        public func validate() throws {
            try check(imageChannels: imageChannels)
            try check(unetWidth: width)
            try check(classCount: classCount)
            if let problem = sampler.problem { try check(false, problem) }
        }
    }

    public convenience init(_ configuration: Configuration, using generator: inout RandomGenerator) {
        self.init(imageChannels: configuration.imageChannels, width: configuration.width, classCount: configuration.classCount,
                  sampler: configuration.sampler, using: &generator)
    }
}
