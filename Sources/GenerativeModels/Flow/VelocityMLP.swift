import NeuralNetworks

/// A velocity network for vectors — the 2-D toy points, a VAE's latent codes: the input beside
/// sinusoidal features of the time (plus, with classes, a learned vector of the class added to
/// them), then `depth` hidden layers of `width` units with SiLU, then a linear layer back to the
/// input's size. Its PyTorch twin is `nn.Sequential` as `net`, with an `nn.Embedding` as
/// `class_embedding`.
public final class VelocityMLP: Module, ConfigurableModel {
    public let configuration: Configuration
    public let net: Sequential
    public let classEmbedding: Embedding?

    /// The size of the time features (and of the class vectors added to them).
    public static let timeFeatureCount = 32

    public init(dimension: Int, width: Int = 256, depth: Int = 3, classCount: Int = 0,
                sampler: FlowMatching.Sampler = .heun(steps: 10), dtype: DType = .float32, using generator: inout RandomGenerator) {
        configuration = Configuration(dimension: dimension, width: width, depth: depth, classCount: classCount, sampler: sampler)
        let sizes = [dimension + Self.timeFeatureCount] + [Int](repeating: width, count: depth) + [dimension]
        var layers: [any Layer] = []
        for (index, (input, output)) in zip(sizes, sizes.dropFirst()).enumerated() {
            layers.append(Linear(inputCount: input, outputCount: output, dtype: dtype, using: &generator))
            if index < sizes.count - 2 { layers.append(SiLU()) }
        }
        net = Sequential(layers)
        classEmbedding = classCount > 0 ? Embedding(count: classCount + 1, dimension: Self.timeFeatureCount, dtype: dtype, using: &generator) : nil
    }

    public override var children: [(name: String, module: Module)] {
        [("net", net)] + (classEmbedding.map { [("class_embedding", $0 as Module)] } ?? [])
    }

    /// The velocity of `x` (`[B, dimension]`) at `times` in [0, 1], for `labels` if conditional
    /// (`classCount` meaning "no class").
    public func callAsFunction(_ x: Tensor, times: [Double], labels: [Int]? = nil) -> Tensor {
        require(x.rank == 2 && x.shape[1] == configuration.dimension && times.count == x.shape[0],
                "VelocityMLP: expected [B, \(configuration.dimension)] with B times, got \(x.shape) and \(times.count)")
        var time = FlowMatching.timeEmbedding(times, dimension: Self.timeFeatureCount, dtype: x.dtype)
        if let classEmbedding {
            guard let labels, labels.count == times.count else { fatalError("VelocityMLP: a conditional model needs one label per item") }
            time = time + classEmbedding(labels)
        }
        return net(Tensor.concatenate([x, time], alongAxis: 1))
    }

    /// The network as the samplers take it; an unconditional call of a conditional model asks for "no class".
    public var predictor: VelocityPredictor {
        let noClass = configuration.classCount, conditional = classEmbedding != nil
        return { x, times, labels in
            self(x, times: times, labels: conditional ? labels ?? [Int](repeating: noClass, count: x.shape[0]) : nil)
        }
    }
}

extension VelocityMLP {
    /// What builds a ``VelocityMLP`` and samples from it.
    public struct Configuration: ModelConfiguration {
        public static let kind = "VelocityMLP"
        public var dimension: Int, width: Int, depth: Int, classCount: Int
        /// The sampler to draw with when none is asked for.
        public var sampler: FlowMatching.Sampler

        public init(dimension: Int, width: Int = 256, depth: Int = 3, classCount: Int = 0, sampler: FlowMatching.Sampler = .heun(steps: 10)) {
            (self.dimension, self.width, self.depth, self.classCount, self.sampler) = (dimension, width, depth, classCount, sampler)
        }

        public func validate() throws {
            // At most 8 layers of 1024 × 1024: about 8 million weights, 32 MB.
            try check((1...1024).contains(dimension), "the vectors must have 1…1024 numbers, got \(dimension)")
            try check((1...1024).contains(width), "the hidden layers must have 1…1024 units, got \(width)")
            try check((1...8).contains(depth), "there must be 1…8 hidden layers, got \(depth)")
            try check(classCount: classCount)
            if let problem = sampler.problem { try check(false, problem) }
        }
    }

    public convenience init(_ configuration: Configuration, using generator: inout RandomGenerator) {
        self.init(dimension: configuration.dimension, width: configuration.width, depth: configuration.depth,
                  classCount: configuration.classCount, sampler: configuration.sampler, using: &generator)
    }
}
