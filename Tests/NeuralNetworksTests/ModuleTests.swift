import Testing
import NeuralNetworks
import TestSupport

/// A two-level model, to check dotted names: `main.0.weight`, `head.bias`, …
final class TwoPartModel: Module {
    let main: Sequential
    let head: Linear

    init(using rng: inout RandomGenerator) {
        main = Sequential([Conv2d(inputChannels: 1, outputChannels: 2, kernelSize: 3, using: &rng), BatchNorm2d(featureCount: 2), ReLU()])
        head = Linear(inputCount: 2, outputCount: 1, using: &rng)
    }

    override var children: [(name: String, module: Module)] { [("main", main), ("head", head)] }
}

@Suite struct ModuleTests {
    @Test func dottedNamesLikePyTorch() {
        var rng = RandomGenerator(seed: 0)
        let model = TwoPartModel(using: &rng)
        #expect(model.namedParameters().map(\.name) == ["main.0.weight", "main.0.bias", "main.1.weight", "main.1.bias", "head.weight", "head.bias"])
        #expect(model.namedBuffers().map(\.name) == ["main.1.running_mean", "main.1.running_var", "main.1.num_batches_tracked"])
        #expect(model.parameterCount == 2 * 9 + 2 + 2 + 2 + 2 + 1)
        #expect(model.parameters.allSatisfy { $0.requiresGrad })
    }

    @Test func trainAndEvalReachEverySublayer() {
        var rng = RandomGenerator(seed: 0)
        let model = TwoPartModel(using: &rng)
        model.eval()
        #expect(!model.isTraining && !model.main.isTraining && model.main.layers.allSatisfy { !$0.isTraining } && !model.head.isTraining)
        model.train()
        #expect(model.main.layers.allSatisfy { $0.isTraining })
    }

    @Test func stateDictRoundTripAndErrors() throws {
        var rng = RandomGenerator(seed: 0)
        let source = TwoPartModel(using: &rng), target = TwoPartModel(using: &rng)
        #expect(source.head.weight.floats != target.head.weight.floats)
        try target.load(stateDict: Dictionary(uniqueKeysWithValues: source.stateDict().map { ($0.name, $0.tensor) }))
        #expect(source.head.weight.floats == target.head.weight.floats)
        var entries = Dictionary(uniqueKeysWithValues: source.stateDict().map { ($0.name, $0.tensor) })
        entries["head.weight"] = Tensor.zeros([3, 3])
        #expect(throws: StateDictError.shapeMismatch("head.weight", expected: [1, 2], found: [3, 3])) { try target.load(stateDict: entries) }
        entries["head.weight"] = nil
        #expect(throws: StateDictError.missingName("head.weight")) { try target.load(stateDict: entries) }
        entries["head.weight"] = source.head.weight
        entries["head.extra"] = Tensor.zeros([1])
        #expect(throws: StateDictError.unexpectedName("head.extra")) { try target.load(stateDict: entries) }
    }

    /// No layer stores a tensor or sub-module that its lists leave out (`GenerativeModelsTests`
    /// checks every model the same way).
    @Test func everyStoredMemberIsListed() {
        var rng = RandomGenerator(seed: 0)
        let layers: [Module] = [
            Linear(inputCount: 2, outputCount: 2, using: &rng), Conv2d(inputChannels: 1, outputChannels: 1, kernelSize: 1, using: &rng),
            ConvTranspose2d(inputChannels: 1, outputChannels: 1, kernelSize: 1, using: &rng), BatchNorm2d(featureCount: 1),
            GroupNorm(groupCount: 1, channelCount: 1), LayerNorm(normalizedShape: [1]), Embedding(count: 2, dimension: 2, using: &rng),
            Dropout(seed: 0), ReLU(), LeakyReLU(), Tanh(), Sigmoid(), SiLU(), GELU(), Flatten(), Upsample(scale: 2), AvgPool2d(kernelSize: 2),
            TwoPartModel(using: &rng),
        ]
        for layer in layers { expectEveryStoredMemberListed(layer) }
    }

    @Test func initialisation() {
        var rng = RandomGenerator(seed: 1)
        let linear = Linear(inputCount: 400, outputCount: 50, using: &rng)
        let bound = 1 / 400.0.squareRoot()
        #expect(linear.weight.doubles.allSatisfy { Swift.abs($0) <= bound })
        // Uniform(−b, b) has variance b²/3.
        #expect(Swift.abs(linear.weight.variance().item - bound * bound / 3) < 0.1 * bound * bound / 3)
        let model = Sequential([ConvTranspose2d(inputChannels: 64, outputChannels: 32, kernelSize: 4, using: &rng), BatchNorm2d(featureCount: 32)])
        Initialization.dcgan(model, using: &rng)
        let weight = (model.layers[0] as! ConvTranspose2d).weight, norm = model.layers[1] as! BatchNorm2d
        #expect(Swift.abs(weight.variance().item.squareRoot() - 0.02) < 0.001 && Swift.abs(weight.mean().item) < 0.001)
        #expect(Swift.abs(norm.weight.mean().item - 1) < 0.02 && norm.bias.doubles.allSatisfy { $0 == 0 })
    }
}
