import Foundation

/// Everything a training run needs to continue exactly where it stopped: the models' parameters
/// and buffers, the optimizers' moments, weight averages, the random generator's state and the
/// run's counters — one safetensors file, written atomically.
///
/// Tensor names: `<model>.<PyTorch state-dict name>` (so `generator.main.0.weight` loads into a
/// PyTorch module after stripping the prefix), `optimizer.<name>.<index>.exp_avg`, `ema.<name>.<index>`.
public struct Checkpoint {
    public var models: [(name: String, module: any Module)] = []
    public var optimizers: [(name: String, optimizer: any Optimizer)] = []
    public var averages: [(name: String, average: ExponentialMovingAverage)] = []

    public init(models: [(name: String, module: any Module)], optimizers: [(name: String, optimizer: any Optimizer)] = [],
                averages: [(name: String, average: ExponentialMovingAverage)] = []) {
        self.models = models
        self.optimizers = optimizers
        self.averages = averages
    }

    /// Saves the state, with `generator`'s state and the run's `counters` (epoch, step, …).
    public func save(to url: URL, generator: RandomGenerator, counters: [String: Int] = [:]) throws {
        var file = SafeTensors()
        for (name, module) in models {
            file.tensors += module.stateDict().map { ("\(name).\($0.name)", $0.tensor) }
        }
        for (name, optimizer) in optimizers {
            let state = optimizer.stateDict()
            file.tensors += state.tensors.map { ("optimizer.\(name).\($0.name)", $0.tensor) }
            for (key, value) in state.counters { file.metadata["optimizer.\(name).\(key)"] = String(value) }
        }
        for (name, average) in averages {
            file.tensors += average.shadows.enumerated().map { ("ema.\(name).\($0.offset)", $0.element) }
        }
        let s = generator.state
        file.metadata["rng"] = [s.0, s.1, s.2, s.3].map { String($0, radix: 16) }.joined(separator: ",")
        for (key, value) in counters { file.metadata["counter.\(key)"] = String(value) }
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try file.write(to: url)
    }

    /// Loads the state saved by `save`; returns the generator and counters to continue with.
    public func load(from url: URL) throws -> (generator: RandomGenerator, counters: [String: Int]) {
        let file = try SafeTensors(contentsOf: url)
        let all = Dictionary(file.tensors.map { ($0.name, $0.tensor) }, uniquingKeysWith: { first, _ in first })
        func entries(prefix: String) -> [String: Tensor] {
            Dictionary(uniqueKeysWithValues: all.filter { $0.key.hasPrefix(prefix) }.map { (String($0.key.dropFirst(prefix.count)), $0.value) })
        }
        func fail(_ problem: String) -> SafeTensorsError { SafeTensorsError(file: url.path, problem: problem) }
        do {
            for (name, module) in models { try module.load(stateDict: entries(prefix: "\(name).")) }
            for (name, optimizer) in optimizers {
                let prefix = "optimizer.\(name)."
                var counters: [String: Int] = [:]
                for (key, value) in file.metadata where key.hasPrefix(prefix) { counters[String(key.dropFirst(prefix.count))] = Int(value) }
                try optimizer.load(stateDict: entries(prefix: prefix), counters: counters)
            }
        } catch let error as StateDictError {
            throw fail("\(error)")
        }
        for (name, average) in averages {
            for (index, shadow) in average.shadows.enumerated() {
                guard let value = all["ema.\(name).\(index)"], value.shape == shadow.shape else {
                    throw fail("missing or misshapen weight average ema.\(name).\(index)")
                }
                shadow.assign(value.converted(to: shadow.dtype))
            }
        }
        let words = (file.metadata["rng"] ?? "").split(separator: ",").compactMap { UInt64($0, radix: 16) }
        guard words.count == 4, words != [0, 0, 0, 0] else { throw fail("no valid random generator state in its metadata") }
        var counters: [String: Int] = [:]
        for (key, value) in file.metadata where key.hasPrefix("counter.") { counters[String(key.dropFirst(8))] = Int(value) }
        return (RandomGenerator(state: (words[0], words[1], words[2], words[3])), counters)
    }
}
