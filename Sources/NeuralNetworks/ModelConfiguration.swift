import Foundation

/// Everything needed to build a model again before its weights are loaded: layer widths, image
/// channels, latent size, class count. A checkpoint records it beside the weights, so a loader
/// builds the network the file was trained with instead of guessing it from tensor names.
public protocol ModelConfiguration: Codable, Equatable, Sendable {
    /// The kind of model it configures, as recorded in a checkpoint (`"DCGANGenerator"`).
    static var kind: String { get }
    /// Throws, naming the first value out of range, when no model can be built from the values;
    /// the ranges keep a configuration read from a file from building a network larger than memory.
    func validate() throws
}

/// A model built from a ``ModelConfiguration``, and able to say which one built it.
public protocol ConfigurableModel: Module {
    associatedtype Configuration: ModelConfiguration
    /// The values this model was built with.
    var configuration: Configuration { get }
    /// A model with freshly initialised weights; `configuration` must be valid.
    init(_ configuration: Configuration, using generator: inout RandomGenerator)
}

/// A configuration value out of range: what it is and why no model can be built from it.
public struct InvalidConfiguration: Error, CustomStringConvertible, Equatable {
    public let problem: String
    public init(_ problem: String) { self.problem = problem }
    public var description: String { problem }
}

extension ModelConfiguration {
    /// The configuration as one line of JSON with sorted keys, as a checkpoint stores it.
    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try! encoder.encode(self), as: UTF8.self)
    }

    /// The configuration the JSON text describes, range-checked; `source` names the text in errors.
    /// - Throws: ``InvalidConfiguration`` when the text is not such a configuration or a value is out of range.
    public static func decoded(from json: String, source: String) throws -> Self {
        let configuration: Self
        do { configuration = try JSONDecoder().decode(Self.self, from: Data(json.utf8)) } catch {
            throw InvalidConfiguration("\(source) is not a readable \(kind) configuration (\(error))")
        }
        try configuration.validate()
        return configuration
    }

    /// Throws ``InvalidConfiguration`` naming `kind` and `problem` unless `condition` holds.
    public func check(_ condition: Bool, _ problem: @autoclosure () -> String) throws {
        guard condition else { throw InvalidConfiguration("\(Self.kind) configuration: \(problem())") }
    }

    // The ranges the image models' configurations share.

    /// One to four image channels (grey, RGB, RGBA).
    public func check(imageChannels: Int) throws {
        try check((1...4).contains(imageChannels), "imageChannels must be 1…4, got \(imageChannels)")
    }

    /// No classes, or up to a hundred.
    public func check(classCount: Int) throws {
        try check((0...100).contains(classCount), "classCount must be 0…100, got \(classCount)")
    }

    /// A latent vector of one to 512 numbers.
    public func check(latentCount: Int) throws {
        try check((1...512).contains(latentCount), "latentCount must be 1…512, got \(latentCount)")
    }

    /// Three layer widths, each from 1 to `limit`.
    public func check(widths: [Int], upTo limit: Int) throws {
        try check(widths.count == 3 && widths.allSatisfy { (1...limit).contains($0) }, "needs three widths of 1…\(limit), got \(widths)")
    }
}

extension Checkpoint {
    /// The metadata keys under which a checkpoint records model `name`'s kind and configuration.
    static func kindKey(_ name: String) -> String { "model.\(name).kind" }
    static func configurationKey(_ name: String) -> String { "model.\(name).configuration" }

    /// The models `file` describes, by name, with their kinds.
    public static func describedModels(in file: SafeTensors) -> [(name: String, kind: String)] {
        file.metadata.compactMap { key, value in
            guard key.hasPrefix("model."), key.hasSuffix(".kind") else { return nil }
            return (String(key.dropFirst("model.".count).dropLast(".kind".count)), value)
        }.sorted { $0.name < $1.name }
    }

    /// Builds model `name` of the checkpoint `file` (read from `url`) from the configuration it
    /// records, and loads its weights: a ``ConfigurableModel`` restored with no knowledge of how it
    /// was trained. The model is in evaluation mode.
    /// - Throws: ``SafeTensorsError`` when the file records no configuration of this kind for
    ///   `name`, when the configuration cannot be read or is out of range, or when it does not fit
    ///   the tensors stored under `name.`.
    public static func restore<Model: ConfigurableModel>(_: Model.Type, named name: String, from file: SafeTensors,
                                                         url: URL) throws -> Model {
        func fail(_ problem: String) -> SafeTensorsError { SafeTensorsError(file: url.path, problem: problem) }
        let kind = Model.Configuration.kind
        guard let recorded = file.metadata[kindKey(name)] else {
            throw fail("its metadata does not describe a model '\(name)' (no \(kindKey(name))); a checkpoint written before models recorded their configuration must be trained again")
        }
        guard recorded == kind else { throw fail("model '\(name)' is a \(recorded), not a \(kind)") }
        let configuration: Model.Configuration
        do {
            configuration = try .decoded(from: file.metadata[configurationKey(name)] ?? "", source: configurationKey(name))
        } catch { throw fail("\(error)") }
        var generator = RandomGenerator(seed: 0)                // initial weights, all replaced by the file's
        let model = Model(configuration, using: &generator)
        let prefix = name + "."
        let entries = Dictionary(file.tensors.filter { $0.name.hasPrefix(prefix) }.map { (String($0.name.dropFirst(prefix.count)), $0.tensor) },
                                 uniquingKeysWith: { first, _ in first })
        do { try model.load(stateDict: entries) } catch {
            throw fail("its \(kind) configuration \(configuration.json) does not fit the tensors under '\(prefix)': \(error)")
        }
        model.eval()
        return model
    }
}
