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

    /// Saves the state, with `generator`'s state, the run's `counters` (epoch, step, …) and any
    /// recorded `series` (loss curves), so that a resumed run can still plot its whole history.
    public func save(to url: URL, generator: RandomGenerator, counters: [String: Int] = [:],
                     series: [String: [Double]] = [:]) throws {
        var file = SafeTensors()
        for (name, values) in series.sorted(by: { $0.key < $1.key }) {
            file.tensors.append(("series.\(name)", Tensor(values, shape: [values.count], dtype: .float64)))
        }
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

    /// The range of every count a checkpoint holds (epochs, steps, milliseconds): whole numbers up
    /// to 2^53, which a `Double` holds exactly (Adam's bias correction and the reported seconds
    /// compute with them) and which a run can add to without overflowing.
    public static let countRange = 0...(1 << 53)

    /// The counts saved in `file`'s metadata under keys starting with `prefix`, by the rest of the key.
    /// - Throws: ``SafeTensorsError`` naming the first value that is not a count in ``countRange``.
    static func counts(withPrefix prefix: String, in file: SafeTensors, url: URL) throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for (key, text) in file.metadata where key.hasPrefix(prefix) {
            guard let value = Int(text), countRange.contains(value) else {
                throw SafeTensorsError(file: url.path, problem: "metadata '\(key)' is '\(text)'; a saved count is a whole number from 0 to \(countRange.upperBound)")
            }
            counts[String(key.dropFirst(prefix.count))] = value
        }
        return counts
    }

    /// Loads the state saved by `save`; returns the generator, counters and series to continue with.
    /// - Throws: ``SafeTensorsError`` when the file does not fit the models and optimizers, or any
    ///   count it holds is out of ``countRange`` (nothing is trained from such a file).
    public func load(from url: URL) throws -> (generator: RandomGenerator, counters: [String: Int], series: [String: [Double]]) {
        let file = try SafeTensors(contentsOf: url)
        let all = Dictionary(file.tensors.map { ($0.name, $0.tensor) }, uniquingKeysWith: { first, _ in first })
        func entries(prefix: String) -> [String: Tensor] {
            Dictionary(uniqueKeysWithValues: all.filter { $0.key.hasPrefix(prefix) }.map { (String($0.key.dropFirst(prefix.count)), $0.value) })
        }
        func fail(_ problem: String) -> SafeTensorsError { SafeTensorsError(file: url.path, problem: problem) }
        let counters = try Self.counts(withPrefix: "counter.", in: file, url: url)
        do {
            for (name, module) in models {
                try module.load(stateDict: entries(prefix: "\(name)."))
            }
            for (name, optimizer) in optimizers {
                let prefix = "optimizer.\(name)."
                try optimizer.load(stateDict: entries(prefix: prefix), counters: try Self.counts(withPrefix: prefix, in: file, url: url))
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
        let fields = (file.metadata["rng"] ?? "").split(separator: ",", omittingEmptySubsequences: false)
        let words = fields.compactMap { UInt64($0, radix: 16) }
        guard fields.count == 4, words.count == 4, words != [0, 0, 0, 0] else { throw fail("no valid random generator state in its metadata") }
        let series = entries(prefix: "series.").mapValues(\.doubles)
        return (RandomGenerator(state: (words[0], words[1], words[2], words[3])), counters, series)
    }

    /// Trains for `epochs` epochs, saving a checkpoint to `url` after each one. With `resume` and a
    /// checkpoint present, the state is restored first and training continues after the last saved
    /// epoch — with the same random numbers, so the result equals an uninterrupted run's.
    ///
    /// `epoch` receives the epoch index, the random generator and the series to append to.
    /// The checkpoint also counts the wall-clock time spent in `epoch` over all runs
    /// (see ``trainingSeconds(in:)``), so a model's cost can be reported later.
    /// Returns the epoch training started from (0 unless resumed).
    /// - Throws: what `body` throws, ``SafeTensorsError`` when the checkpoint cannot be resumed
    ///   (see ``load(from:)``; it must also say which epoch it reached), or the error of a failed save.
    @discardableResult
    public func runEpochs(_ epochs: Int, checkpoint url: URL, resume: Bool, generator: inout RandomGenerator,
                          series: inout [String: [Double]],
                          epoch body: (Int, inout RandomGenerator, inout [String: [Double]]) throws -> Void) throws -> Int {
        var first = 0
        var milliseconds = 0
        if resume, FileManager.default.fileExists(atPath: url.path) {
            let restored = try load(from: url)
            guard let saved = restored.counters["epoch"] else {
                throw SafeTensorsError(file: url.path, problem: "no counter.epoch in its metadata, so it does not say where to continue")
            }
            generator = restored.generator
            series = restored.series
            first = min(saved, epochs)
            milliseconds = restored.counters[Self.trainingMillisecondsKey] ?? 0
        }
        for epoch in first..<max(first, epochs) {
            let start = DispatchTime.now().uptimeNanoseconds
            try body(epoch, &generator, &series)
            milliseconds += Int((DispatchTime.now().uptimeNanoseconds - start) / 1_000_000)
            try save(to: url, generator: generator, counters: ["epoch": epoch + 1, Self.trainingMillisecondsKey: milliseconds], series: series)
        }
        return first
    }

    private static let trainingMillisecondsKey = "training-milliseconds"

    /// The wall-clock seconds `runEpochs` spent training the checkpoint at `url`, or nil if it does not say.
    public static func trainingSeconds(in url: URL) throws -> Double? {
        let counters = try counts(withPrefix: "counter.", in: SafeTensors(contentsOf: url), url: url)
        return counters[trainingMillisecondsKey].map { Double($0) / 1000 }
    }
}
