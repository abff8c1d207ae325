import Foundation

/// Everything a training run needs to continue exactly where it stopped: the models' parameters
/// and buffers, the optimizers' moments, weight averages, the random generator's state and the
/// run's counters — one safetensors file, written atomically.
///
/// Tensor names: `<model>.<PyTorch state-dict name>` (so `generator.main.0.weight` loads into a
/// PyTorch module after stripping the prefix), `optimizer.<name>.<index>.exp_avg`, `ema.<name>.<index>`.
/// A ``ConfigurableModel`` also records its kind and configuration in the metadata
/// (`model.<name>.kind`, `model.<name>.configuration`), from which ``restore(_:named:from:url:)`` builds it.
public struct Checkpoint {
    public var models: [(name: String, module: Module)] = []
    public var optimizers: [(name: String, optimizer: any Optimizer)] = []
    public var averages: [(name: String, average: ExponentialMovingAverage)] = []

    public init(models: [(name: String, module: Module)], optimizers: [(name: String, optimizer: any Optimizer)] = [],
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
            if let model = module as? any ConfigurableModel {
                let configuration = model.configuration
                file.metadata[Self.kindKey(name)] = type(of: configuration).kind
                file.metadata[Self.configurationKey(name)] = configuration.json
            }
        }
        for (name, optimizer) in optimizers {
            let state = optimizer.stateDict()
            file.tensors += state.tensors.map { ("optimizer.\(name).\($0.name)", $0.tensor) }
            for (key, value) in state.counters { file.metadata["optimizer.\(name).\(key)"] = String(value) }
        }
        for (name, average) in averages {
            file.tensors += average.shadows.enumerated().map { ("ema.\(name).\($0.offset)", $0.element) }
            file.metadata["ema.\(name).updates"] = String(average.updateCount)
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
            // Files from before the count was kept say nothing: their averages had no warm-up to continue.
            average.updateCount = try Self.counts(withPrefix: "ema.\(name).", in: file, url: url)["updates"] ?? 0
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

    /// Trains the steps of `plan` that are not done yet, one `body` call per step, saving a
    /// checkpoint to `url` after every epoch, when `shouldContinue` stops the run inside one, and
    /// every `checkpointInterval` seconds of training in between. With `resume` and a checkpoint
    /// present, the state is restored first and training continues after the last saved step —
    /// with the same random numbers, so the result equals an uninterrupted run's, byte for byte.
    ///
    /// `shouldContinue` is asked before every step; `epochEnded` is called at the end of each epoch,
    /// and where a run stops inside one, with the epoch and whether it is complete — before that
    /// checkpoint is saved, so that what it writes (a figure) exists whenever the checkpoint does.
    /// Returns the steps that were done when the run started, and when it stopped.
    /// - Throws: what `body` or `epochEnded` throw, ``SafeTensorsError`` when the checkpoint cannot be
    ///   resumed (see ``restore(from:plan:)``), or the error of a failed save.
    @discardableResult
    public func runSteps(_ plan: TrainingPlan, checkpoint url: URL, resume: Bool, checkpointInterval: Double = 600,
                         generator: inout RandomGenerator, series: inout [String: [Double]],
                         shouldContinue: (TrainingStep) -> Bool = { _ in true },
                         step body: (TrainingStep, inout RandomGenerator, inout [String: [Double]]) throws -> Void,
                         epochEnded: (_ epoch: Int, _ complete: Bool) throws -> Void = { _, _ in }) throws -> (resumedAt: Int, stoppedAt: Int) {
        var first = 0
        if resume, FileManager.default.fileExists(atPath: url.path) {
            let restored = try restore(from: url, plan: plan)
            (generator, series, first) = (restored.generator, restored.series, restored.steps)
        }
        var lastSave = DispatchTime.now().uptimeNanoseconds
        func save(after steps: Int) throws {
            try self.save(to: url, generator: generator, counters: [Self.stepKey: steps, Self.epochKey: steps / plan.stepsPerEpoch,
                                                                    Self.stepsPerEpochKey: plan.stepsPerEpoch], series: series)
            lastSave = DispatchTime.now().uptimeNanoseconds
        }
        var index = first
        while index < plan.totalSteps {
            let step = TrainingStep(index: index, stepsPerEpoch: plan.stepsPerEpoch)
            if !shouldContinue(step) {
                if index > first && step.batch != 0 {     // at an epoch's start, its predecessor's call and save came already
                    try epochEnded(step.epoch, false)
                    try save(after: index)
                }
                return (first, index)
            }
            try body(step, &generator, &series)
            index += 1
            if step.batch == plan.stepsPerEpoch - 1 {
                try epochEnded(step.epoch, true)
                try save(after: index)
            } else if Double(DispatchTime.now().uptimeNanoseconds - lastSave) / 1e9 >= checkpointInterval {
                try save(after: index)
            }
        }
        return (first, index)
    }

    /// Restores the state saved at `url` by ``runSteps(_:checkpoint:resume:checkpointInterval:generator:series:shouldContinue:step:epochEnded:)``
    /// and returns the generator, the series and how many steps of `plan` it had trained.
    /// - Throws: ``SafeTensorsError`` when the file does not fit the models (see ``load(from:)``),
    ///   does not say how far it got, or was made for epochs of another length.
    public func restore(from url: URL, plan: TrainingPlan) throws -> (generator: RandomGenerator, series: [String: [Double]], steps: Int) {
        let restored = try load(from: url)
        func fail(_ problem: String) -> SafeTensorsError { SafeTensorsError(file: url.path, problem: problem) }
        if let saved = restored.counters[Self.stepsPerEpochKey], saved != plan.stepsPerEpoch {
            throw fail("it was trained with \(saved) steps per epoch and this run has \(plan.stepsPerEpoch) (another mode or data size?), so it cannot continue from it")
        }
        // Checkpoints written before step counts were saved say only how many epochs they finished.
        guard let steps = restored.counters[Self.stepKey] ?? restored.counters[Self.epochKey].map({ $0 * plan.stepsPerEpoch }) else {
            throw fail("no counter.step or counter.epoch in its metadata, so it does not say where to continue")
        }
        return (restored.generator, restored.series, min(steps, plan.totalSteps))
    }

    private static let stepKey = "step", epochKey = "epoch", stepsPerEpochKey = "steps-per-epoch"
}

/// How long a training run is: `epochs` passes of `stepsPerEpoch` steps. An epoch is the unit of
/// checkpoints and of per-epoch figures; a step is one optimisation step (or, for a GAN's critic,
/// one generator step with its critic steps).
public struct TrainingPlan: Equatable, Sendable {
    public let epochs: Int
    public let stepsPerEpoch: Int

    /// A plan of `epochs` epochs of `stepsPerEpoch` steps; both at least 1.
    public init(epochs: Int, stepsPerEpoch: Int) {
        require(epochs >= 1 && stepsPerEpoch >= 1, "TrainingPlan: needs at least one epoch of one step, got \(epochs) × \(stepsPerEpoch)")
        self.epochs = epochs
        self.stepsPerEpoch = stepsPerEpoch
    }

    /// Every step of the run.
    public var totalSteps: Int { epochs * stepsPerEpoch }
}

/// Where one step falls in its ``TrainingPlan``.
public struct TrainingStep: Equatable, Sendable {
    /// The step's number in the whole run, from 0.
    public let index: Int
    /// The plan's epoch length.
    public let stepsPerEpoch: Int

    /// The epoch the step belongs to, from 0.
    public var epoch: Int { index / stepsPerEpoch }
    /// The step's place in its epoch (which batch of the epoch), from 0.
    public var batch: Int { index % stepsPerEpoch }
}
