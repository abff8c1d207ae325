import Foundation
import Testing
import NeuralNetworks

/// A two-layer network built from a configuration, as the library's models are.
private final class TwoLayers: Module, ConfigurableModel {
    struct Configuration: ModelConfiguration {
        static let kind = "TwoLayers"
        var inputs: Int, hidden: Int
        func validate() throws {
            try check((1...64).contains(inputs), "inputs must be 1…64, got \(inputs)")
            try check((1...64).contains(hidden), "hidden must be 1…64, got \(hidden)")
        }
    }
    let configuration: Configuration
    let first: Linear, second: Linear

    init(_ configuration: Configuration, using generator: inout RandomGenerator) {
        self.configuration = configuration
        first = Linear(inputCount: configuration.inputs, outputCount: configuration.hidden, using: &generator)
        second = Linear(inputCount: configuration.hidden, outputCount: 1, using: &generator)
    }
    override var children: [(name: String, module: Module)] { [("first", first), ("second", second)] }
}

/// A checkpoint records each configurable model's kind and configuration, and `restore` builds the
/// model from them alone.
@Suite struct ModelConfigurationTests {
    private func saved(_ models: [(name: String, module: Module)], edit: (inout SafeTensors) -> Void = { _ in }) throws -> (SafeTensors, URL) {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("configured-\(UUID()).safetensors")
        try Checkpoint(models: models).save(to: url, generator: RandomGenerator(seed: 1))
        var file = try SafeTensors(contentsOf: url)
        edit(&file)
        return (file, url)
    }

    @Test func aModelIsRebuiltFromItsRecordedConfiguration() throws {
        var rng = RandomGenerator(seed: 4)
        let model = TwoLayers(.init(inputs: 3, hidden: 5), using: &rng)
        let plain = Linear(inputCount: 2, outputCount: 2, using: &rng)                    // not configurable: no description
        let (file, url) = try saved([("net", model), ("plain", plain)])
        defer { try? FileManager.default.removeItem(at: url) }
        #expect(file.metadata["model.net.kind"] == "TwoLayers")
        #expect(file.metadata["model.net.configuration"] == #"{"hidden":5,"inputs":3}"#)
        #expect(Checkpoint.describedModels(in: file).map { "\($0.name):\($0.kind)" } == ["net:TwoLayers"])
        let restored = try Checkpoint.restore(TwoLayers.self, named: "net", from: file, url: url)
        #expect(restored.configuration == model.configuration && !restored.isTraining)
        #expect(restored.stateDict().map(\.tensor.floats) == model.stateDict().map(\.tensor.floats))
    }

    @Test func missingWrongOrUnfittingConfigurationsAreNamed() throws {
        var rng = RandomGenerator(seed: 4)
        let model = TwoLayers(.init(inputs: 3, hidden: 5), using: &rng)
        func problem(_ edit: @escaping (inout SafeTensors) -> Void, name: String = "net") throws -> String {
            let (file, url) = try saved([("net", model)], edit: edit)
            defer { try? FileManager.default.removeItem(at: url) }
            let error = try #require(throws: SafeTensorsError.self) { try Checkpoint.restore(TwoLayers.self, named: name, from: file, url: url) }
            #expect(error.file == url.path)
            return error.problem
        }
        #expect(try problem({ _ in }, name: "other").hasPrefix("its metadata does not describe a model 'other' (no model.other.kind)"))
        #expect(try problem { $0.metadata["model.net.kind"] = "Linear" } == "model 'net' is a Linear, not a TwoLayers")
        #expect(try problem { $0.metadata["model.net.configuration"] = "[]" }.hasPrefix("model.net.configuration is not a readable TwoLayers configuration"))
        #expect(try problem { $0.metadata["model.net.configuration"] = #"{"hidden":5000,"inputs":3}"# }
                == "TwoLayers configuration: hidden must be 1…64, got 5000")
        #expect(try problem { $0.metadata["model.net.configuration"] = #"{"hidden":4,"inputs":3}"# }
                == #"its TwoLayers configuration {"hidden":4,"inputs":3} does not fit the tensors under 'net.': "#
                   + "state dict: 'first.weight' has shape [5, 3], the module expects [4, 3]")
    }
}
