import NeuralNetworks

/// A training run that takes milliseconds yet holds every kind of state a checkpoint saves: a
/// convolution, batch normalisation and a linear layer, Adam's moments and step count, a weight
/// average. The checkpoint tests stop and resume it; `Scripts/fuzz` compiles this file into the
/// fuzzer, whose checkpoint reader resumes it from damaged files.
public struct TinyTraining {
    public let model: Sequential
    public let optimizer: Adam
    public let average: ExponentialMovingAverage
    /// The random numbers left after the weights were drawn; `step()` draws its images from them.
    public var generator: RandomGenerator

    public init() {
        var rng = RandomGenerator(seed: 11)
        model = Sequential([Conv2d(inputChannels: 1, outputChannels: 4, kernelSize: 3, stride: 2, padding: 1, using: &rng),
                            BatchNorm2d(featureCount: 4), LeakyReLU(negativeSlope: 0.2), Flatten(),
                            Linear(inputCount: 16, outputCount: 1, using: &rng)])
        optimizer = Adam(model.parameters, learningRate: 1e-2, betas: (0.5, 0.999))
        average = ExponentialMovingAverage(model.parameters, decay: 0.9)
        generator = rng
    }

    public var checkpoint: Checkpoint { Checkpoint(models: [("model", model)], optimizers: [("adam", optimizer)], averages: [("model", average)]) }

    /// One step towards predicting the mean of 8 random 4×4 images drawn from `rng`; returns the loss.
    @discardableResult
    public func step(using rng: inout RandomGenerator) -> Tensor {
        let x = Tensor.randomNormal([8, 1, 4, 4], using: &rng)
        let target = x.mean(alongAxes: [1, 2, 3]).reshaped([8, 1])
        let loss = mseLoss(model(x), target)
        optimizer.zeroGrad()
        loss.backward()
        optimizer.step()
        average.update()
        return loss
    }

    /// One step, its images drawn from `generator`.
    public mutating func step() { step(using: &generator) }
}
