import Foundation
@testable import Evaluation
@testable import GenerativeModels
import NeuralNetworks
import Testing

/// Model files whose configuration describes no model this library builds, one far larger than
/// the file, or one its tensors do not fit, are refused with a message naming the problem.
@Suite struct HostileModelFileTests {
    /// A file holding `tensors` (zeros of the given shapes) and `metadata`.
    private func file(_ tensors: [(String, [Int])], metadata: [String: String] = [:]) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("hostile-model-\(UUID()).safetensors")
        try SafeTensors(tensors: tensors.map { ($0.0, Tensor.zeros($0.1)) }, metadata: metadata).write(to: url)
        return url
    }

    /// What `SavedGenerator.load` says about a file of `tensors` and `metadata`, after the file's path.
    private func refusal(_ tensors: [(String, [Int])], metadata: [String: String]) throws -> String {
        let url = try file(tensors, metadata: metadata)
        defer { try? FileManager.default.removeItem(at: url) }
        do { _ = try SavedGenerator.load(from: url) } catch let error as SafeTensorsError {
            return error.file == url.path ? error.problem : "\(error)"
        } catch {
            return "\(error)".replacingOccurrences(of: url.path, with: "FILE")
        }
        return "loaded"
    }

    /// The metadata that describes model `name` as `configuration`.
    private func describing<C: ModelConfiguration>(_ name: String, as configuration: C) -> [String: String] {
        ["model.\(name).kind": C.kind, "model.\(name).configuration": configuration.json]
    }

    @Test func aConfigurationTooLargeToBuild() throws {
        // A width of 100 000 would build convolutions of 10^11 weights; the file holds one tensor.
        let wide = describing("unet", as: TinyUNet.Configuration(width: 100_000))
        #expect(try refusal([("unet.conv_in.weight", [8, 1, 3, 3])], metadata: wide)
                == "TinyUNet configuration: width must be a multiple of 8 from 8 to 256 (GroupNorm uses 8 groups), got 100000")
        let latent = describing("generator", as: DCGANGenerator.Configuration(latentCount: 1 << 40))
        #expect(try refusal([], metadata: latent) == "DCGANGenerator configuration: latentCount must be 1…512, got 1099511627776")
        let widths = describing("vae", as: VariationalAutoencoder.Configuration(widths: [4, 8]))
        #expect(try refusal([], metadata: widths) == "VariationalAutoencoder configuration: needs three widths of 1…512, got [4, 8]")
        // A schedule of 10^9 steps would be an 8 GB table; a DDIM sampler longer than its schedule cannot run.
        let long = describing("unet", as: TinyUNet.Configuration(schedule: .linear(stepCount: 1_000_000_000, start: 1e-4, end: 0.02)))
        #expect(try refusal([], metadata: long) == "TinyUNet configuration: a linear schedule needs 2…100000 steps, got 1000000000")
        let sampler = describing("unet", as: TinyUNet.Configuration(sampler: .ddim(steps: 5000)))
        #expect(try refusal([], metadata: sampler) == "TinyUNet configuration: a DDIM sampler needs 1…1000 steps, got 5000")
        // Sixteen layers of 4096 × 4096 would be a gigabyte of weights, built before any tensor is read.
        let deep = describing("latent-flow", as: LatentFlow.Configuration(
            autoencoder: .init(), flow: .init(dimension: 32, width: 4096, depth: 16), latentScale: 1))
        #expect(try refusal([], metadata: deep) == "VelocityMLP configuration: the hidden layers must have 1…1024 units, got 4096")
    }

    @Test func aConfigurationThatDoesNotFitItsTensors() throws {
        var rng = RandomGenerator(seed: 3)
        let small = DCGANGenerator(latentCount: 4, widths: [16, 8, 4], using: &rng)
        let tensors = small.stateDict().map { ("generator.\($0.name)", $0.tensor.shape) }
        let wider = describing("generator", as: DCGANGenerator.Configuration(latentCount: 4, widths: [16, 8, 8]))
        #expect(try refusal(tensors, metadata: wider)
                == "its DCGANGenerator configuration {\"classCount\":0,\"imageChannels\":1,\"latentCount\":4,\"widths\":[16,8,8]} "
                   + "does not fit the tensors under 'generator.': state dict: 'main.6.weight' has shape [8, 4, 4, 4], the module expects [8, 8, 4, 4]")
        let fits = describing("generator", as: small.configuration)
        #expect(try refusal(tensors, metadata: fits) == "loaded")
        #expect(try refusal(tensors.dropLast(), metadata: fits).hasSuffix("state dict: missing entry 'main.7.num_batches_tracked'"))
        var unreadable = fits
        unreadable["model.generator.configuration"] = "{\"latentCount\": \"four\"}"
        #expect(try refusal(tensors, metadata: unreadable).hasPrefix("model.generator.configuration is not a readable DCGANGenerator configuration"))
    }

    @Test func aFileThatDescribesNoGenerator() throws {
        #expect(try refusal([("generator.main.0.weight", [20, 16, 4, 4])], metadata: [:])
                == "FILE describes no model in its metadata (model.<name>.kind): it is not a checkpoint of this library, "
                   + "or one written before checkpoints described their models; train it again")
        let critic = describing("critic", as: DCGANDiscriminator.Configuration())
        #expect(try refusal([], metadata: critic)
                == "FILE holds critic (DCGANDiscriminator), not exactly one of the image generators DCGANGenerator, VariationalAutoencoder, TinyUNet, FlowUNet, LatentFlow")
        let two = describing("a", as: TinyUNet.Configuration()).merging(describing("b", as: VariationalAutoencoder.Configuration())) { a, _ in a }
        #expect(try refusal([], metadata: two).hasPrefix("FILE holds a (TinyUNet), b (VariationalAutoencoder), not exactly one"))
    }

    /// A classifier cache whose configuration asks for a network wider than any the book trains.
    @Test func aClassifierConfigurationTooLargeToBuild() throws {
        var configuration = ClassifierConfiguration.quick
        configuration.widths = [100_000, 100_000, 100_000]
        let url = try file([], metadata: ["format": Evaluator.format, "configuration": configuration.json, "test_accuracy": "0.9"])
        defer { try? FileManager.default.removeItem(at: url) }
        let error = try #require(throws: SafeTensorsError.self) { try Evaluator.load(from: url) }
        #expect(error.problem == "classifier configuration 'quick': needs three widths from 1 to 512, got [100000, 100000, 100000]")

        configuration = .quick
        configuration.featureCount = 1 << 40
        let features = try file([], metadata: ["format": Evaluator.format, "configuration": configuration.json, "test_accuracy": "0.9"])
        defer { try? FileManager.default.removeItem(at: features) }
        let featureError = try #require(throws: SafeTensorsError.self) { try Evaluator.load(from: features) }
        #expect(featureError.problem == "classifier configuration 'quick': needs 2 to 1024 features, got 1099511627776")
    }
}
