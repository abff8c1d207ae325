import Foundation
import NeuralNetworks

/// What one of a chapter's trainings did, for the reader, the run manifest and `--steps`.
public struct TrainingOutcome: Codable, Sendable, Equatable {
    /// The name the chapter declared for it ("DCGAN").
    public let name: String
    /// The steps the chapter planned.
    public let plannedSteps: Int
    /// The steps the checkpoint holds now: what `--steps` repeats.
    public let steps: Int
    /// The steps that were done when this run started (0 unless resumed).
    public let resumedAt: Int
    /// The epoch length of the plan.
    public let stepsPerEpoch: Int
    /// Wall-clock seconds of training over every run that trained the checkpoint, when known.
    public let seconds: Double?

    /// Whether the whole plan was trained.
    public var isComplete: Bool { steps == plannedSteps }
    /// The epochs that were started: complete ones and a last, partial one.
    public var epochsStarted: Int { (steps + stepsPerEpoch - 1) / stepsPerEpoch }
}

/// The record kept beside a checkpoint (`dcgan.safetensors` → `dcgan.training.json`): how many
/// steps it holds, how long they took and on which machine. Times live here rather than in the
/// checkpoint, so that two runs of the same steps write the same checkpoint bytes.
public struct TrainingRecord: Codable, Sendable, Equatable {
    public var steps: Int
    public var seconds: Double
    public var processor: String
    public var threads: Int

    /// The record's file for the checkpoint at `checkpoint`.
    public static func url(for checkpoint: URL) -> URL {
        checkpoint.deletingPathExtension().appendingPathExtension("training.json")
    }

    /// The record beside `checkpoint`, or nil when there is none or it cannot be read.
    public static func read(for checkpoint: URL) -> TrainingRecord? {
        guard let data = try? Data(contentsOf: url(for: checkpoint)),
              let record = try? JSONDecoder().decode(TrainingRecord.self, from: data),
              record.steps >= 0, record.seconds >= 0, record.seconds.isFinite else { return nil }
        return record
    }

    func write(for checkpoint: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(self).write(to: Self.url(for: checkpoint), options: .atomic)
    }
}

extension Notebook {
    /// How many steps are timed before a training says how long it will take (the first, which
    /// allocates and packs, is not counted).
    static let timedSteps = 6

    /// Trains the model(s) in `state` as `plan` says, one `step` call per optimisation step, with
    /// everything a chapter's training needs: a progress bar per epoch, an estimate of the time it
    /// will take on this machine, the `--minutes` / `--steps` budget, a checkpoint `file` in the
    /// output folder after every epoch and where the budget ends, and `--resume` from it.
    ///
    /// `name` is one of the trainings the chapter declared when it opened the notebook. `step`
    /// returns the metrics to show on the bar; `afterEpoch` runs at the end of each epoch, and of a
    /// last epoch the budget cut short (`complete` false), before its checkpoint is saved — the
    /// place for per-epoch figures.
    /// With `--train-only`, the run ends (``finish()``, exit status 0) after the main model's training.
    /// - Throws: what `step` and `afterEpoch` throw, or a checkpoint error (see ``Checkpoint/runSteps``).
    @discardableResult
    public func train(_ name: String, _ state: Checkpoint, file: String, plan: TrainingPlan,
                      label: (Int) -> String = { "epoch \($0 + 1)" }, generator: inout RandomGenerator,
                      series: inout [String: [Double]], line: Int = #line,
                      step body: (TrainingStep, inout RandomGenerator, inout [String: [Double]]) throws -> [(String, Double)],
                      afterEpoch: (_ epoch: Int, _ complete: Bool) throws -> Void = { _, _ in }) throws -> TrainingOutcome {
        // Under --train-only, a training before the main one runs in full and is not the run's outcome.
        let onTheWay = options.trainOnly && trainingsBeforeMain.contains(name)
        guard let budget = budgets[name] ?? (onTheWay ? TrainingBudget() : nil) else {
            preconditionFailure("Notebook.train: '\(name)' is not among the trainings the chapter declared: \(trainings.map(\.name))")
        }
        let url = outputDirectory.appendingPathComponent(file)
        let stepLimit = min(plan.totalSteps, budget.steps ?? plan.totalSteps)
        var firstStep: Int?
        var timedSeconds: [Double] = []              // the first steps', for the estimate
        var trainedSeconds = 0.0                     // all steps' of this run, for the budget
        var stepCount = 0
        var bar: ProgressBar?

        /// Says how long the rest will take, from the steps timed so far.
        func announce(from first: Int) {
            // The first step allocates and packs; of the rest, the median, which one step slowed by
            // something else starting on the machine does not sway.
            let timed = (timedSeconds.count > 1 ? Array(timedSeconds.dropFirst()) : timedSeconds).sorted()
            let perStep = timed.isEmpty ? 0 : (timed[(timed.count - 1) / 2] + timed[timed.count / 2]) / 2
            let remaining = Double(stepLimit - first) * perStep
            var text = "\(name): \(stepLimit - first) steps to train"
            if first > 0 { text += " (from step \(first + 1))" }
            text += ", about \(ProgressBar.words(remaining)) on this machine (\(Processor.current.model), \(Parallel.threadCount) thread\(Parallel.threadCount == 1 ? "" : "s"))"
            if let seconds = budget.seconds {
                text += "; its budget of \(ProgressBar.words(seconds)) allows about \(min(stepLimit - first, Int(seconds / max(perStep, 1e-9))))"
            } else if budget.steps != nil {
                text += " (--steps)"
            } else if remaining > 600 {
                text += " — over ten minutes: `--minutes M` trains for M minutes instead"
            }
            show(text, line: line)
        }

        let (resumedAt, stoppedAt) = try state.runSteps(
            plan, checkpoint: url, resume: options.resume, generator: &generator, series: &series,
            shouldContinue: { step in
                step.index < stepLimit && budget.seconds.map { trainedSeconds < $0 } ?? true
            },
            step: { step, generator, series in
                let first = firstStep ?? step.index
                firstStep = first
                let start = DispatchTime.now().uptimeNanoseconds
                let metrics = try body(step, &generator, &series)
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                trainedSeconds += seconds
                stepCount += 1
                // The first few steps are timed before any bar is drawn, so the estimate comes first.
                let silent = min(Self.timedSteps, stepLimit - first)
                if stepCount <= silent { timedSeconds.append(seconds) }
                if stepCount == silent { announce(from: first) }
                guard stepCount > silent || step.batch == plan.stepsPerEpoch - 1 else { return }
                if bar == nil { bar = progress(label(step.epoch), total: plan.stepsPerEpoch, done: step.batch, line: line) }
                bar!.advance(metrics: metrics)
            },
            epochEnded: { epoch, complete in
                bar?.finish()
                bar = nil
                try afterEpoch(epoch, complete)
            })

        let seconds: Double? = resumedAt == 0 ? trainedSeconds
            : TrainingRecord.read(for: url).flatMap { $0.steps == resumedAt ? $0.seconds + trainedSeconds : nil }
        if let seconds {
            try TrainingRecord(steps: stoppedAt, seconds: seconds, processor: Processor.current.model, threads: Parallel.threadCount).write(for: url)
        }
        let outcome = TrainingOutcome(name: name, plannedSteps: plan.totalSteps, steps: stoppedAt, resumedAt: resumedAt,
                                      stepsPerEpoch: plan.stepsPerEpoch, seconds: seconds)
        var summary = "\(name): "
        if stoppedAt == resumedAt {
            summary += "all \(stoppedAt) steps were in the checkpoint already"
        } else {
            if resumedAt > 0 { summary += "resumed after step \(resumedAt) from the checkpoint, " }
            summary += "trained \(resumedAt > 0 ? "steps \(resumedAt + 1)–\(stoppedAt)" : "\(stoppedAt) steps") of \(plan.totalSteps) in \(ProgressBar.words(trainedSeconds))"
            if !outcome.isComplete { summary += budget.seconds != nil ? ", where its budget ended" : " (--steps)" }
        }
        show(summary, line: line)
        if onTheWay { return outcome }
        outcomes.append(outcome)
        if options.trainOnly {                      // the main model is trained: the run ends here
            try finish()
            Foundation.exit(0)
        }
        return outcome
    }
}

/// What one training may spend: a share of `--minutes`, or the count `--steps` gives it.
struct TrainingBudget: Equatable {
    var seconds: Double? = nil
    var steps: Int? = nil
}
