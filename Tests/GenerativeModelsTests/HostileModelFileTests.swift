import Foundation
@testable import GenerativeModels
import NeuralNetworks
import Testing

/// Model files whose shapes or configuration describe no model this library builds — or one far
/// larger than the file — are refused by name before any network is built from them.
@Suite struct HostileModelFileTests {
    /// A file holding `tensors` (zeros of the given shapes) and `metadata`.
    private func file(_ tensors: [(String, [Int])], metadata: [String: String] = [:]) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("hostile-model-\(UUID()).safetensors")
        try SafeTensors(tensors: tensors.map { ($0.0, Tensor.zeros($0.1)) }, metadata: metadata).write(to: url)
        return url
    }

    /// What `SavedGenerator.load` says about a file of `tensors`, after the file's path.
    private func refusal(_ tensors: [(String, [Int])]) throws -> String {
        let url = try file(tensors)
        defer { try? FileManager.default.removeItem(at: url) }
        let error = try #require(throws: SavedGeneratorError.self) { try SavedGenerator.load(from: url) }
        guard case .inconsistent(let file, let problem) = error, file == url else { return "\(error)" }
        return problem
    }

    @Test func aUNetWiderThanItsFile() throws {
        // A width of 100 000 would build convolutions of 10^11 weights; the file holds 900 000.
        #expect(try refusal([("unet.conv_in.weight", [100_000, 1, 3, 3])]) == "unet.rb_m2.conv2.weight is missing")
        #expect(try refusal([("unet.conv_in.weight", [16, 1, 3, 3]), ("unet.rb_m2.conv2.weight", [32, 32, 3, 3])])
                == "unet.rb_m2.conv2.weight has shape [32, 32, 3, 3]; width 16 needs [64, 64, 3, 3]")
        #expect(try refusal([("unet.conv_in.weight", [12, 1, 3, 3])]) == "unet.conv_in.weight has 12 output channels; a TinyUNet's width is a multiple of 8")
        #expect(try refusal([("unet.conv_in.weight", [8])]) == "unet.conv_in.weight has shape [8]; expected 4 sizes of at least 1")
        #expect(try refusal([("unet.conv_in.weight", [8, 1, 3, 3]), ("unet.rb_m2.conv2.weight", [32, 32, 3, 3]),
                             ("unet.class_embedding.weight", [1, 128])])
                == "unet.class_embedding.weight has 1 rows; it needs the classes and a \"no class\" row")
    }

    @Test func aGeneratorWhoseLayersDoNotChain() throws {
        let layers: [(String, [Int])] = [("generator.main.0.weight", [20, 16, 4, 4]), ("generator.main.3.weight", [16, 8, 4, 4]),
                                         ("generator.main.6.weight", [8, 4, 4, 4]), ("generator.main.9.weight", [4, 1, 4, 4])]
        var unchained = layers
        unchained[2].1 = [1000, 4, 4, 4]
        #expect(try refusal(unchained) == "the generator's transposed convolutions do not chain: [16, 8, 4, 4] then [1000, 4, 4, 4]")
        #expect(try refusal(layers + [("generator.label_embedding.weight", [20, 20])])
                == "generator.main.0.weight takes 20 channels, no more than its 20 classes: no latent")
        #expect(try refusal(layers + [("generator.label_embedding.weight", [10, 3])])
                == "generator.label_embedding.weight has shape [10, 3]; expected [classes, classes]")
    }

    @Test func aVAEWhoseHeadsDoNotFitItsEncoder() throws {
        let encoder: [(String, [Int])] = [("vae.encoder.conv1.weight", [4, 1, 4, 4]), ("vae.encoder.conv2.weight", [8, 4, 4, 4]),
                                          ("vae.encoder.conv3.weight", [16, 8, 4, 4])]
        #expect(try refusal(encoder + [("vae.encoder.fc_mu.weight", [5, 100]), ("vae.decoder.fc.weight", [256, 5])])
                == "vae.encoder.fc_mu.weight has shape [5, 100] and vae.decoder.fc.weight [256, 5]; encoder width 16 does not fit them")
        var unchained = encoder
        unchained[1].1 = [8, 5, 4, 4]
        #expect(try refusal(unchained + [("vae.encoder.fc_mu.weight", [5, 256]), ("vae.decoder.fc.weight", [256, 5])])
                == "vae's encoder convolutions do not chain: [4, 1, 4, 4] then [8, 5, 4, 4]")
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
