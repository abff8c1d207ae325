import Foundation
import NeuralNetworks
import Testing
@testable import Notebook

/// `--minutes` and `--steps` as a chapter sees them: a training stops at the step where its
/// budget is spent, is checkpointed there, and the printed step count repeats it exactly.
@Suite struct TrainingBudgetTests {
    /// A linear model with Adam, one optimisation step on fresh random data per training step.
    private struct Model {
        let layer: Linear
        let optimizer: Adam

        init() {
            var rng = RandomGenerator(seed: 21)
            layer = Linear(inputCount: 4, outputCount: 3, using: &rng)
            optimizer = Adam(layer.parameters, learningRate: 1e-2)
        }

        var checkpoint: Checkpoint { Checkpoint(models: [("model", layer)], optimizers: [("model", optimizer)]) }

        func step(using rng: inout RandomGenerator) -> Double {
            let x = Tensor.randomNormal([8, 4], using: &rng)
            let loss = mseLoss(layer(x), x.slice(0..<3, alongAxis: 1))
            optimizer.zeroGrad()
            loss.backward()
            optimizer.step()
            return loss.item
        }
    }

    private func folder() -> URL { FileManager.default.temporaryDirectory.appendingPathComponent("budget-\(UUID())") }

    /// Opens a notebook with `arguments` over one declared training, trains 20 epochs of 50 steps,
    /// each step also sleeping `pause` seconds; returns the outcome, the step times the closure
    /// measured, and the finished run's transcript text.
    private func run(_ arguments: [String], out: URL, pause: Double = 0) throws -> (outcome: TrainingOutcome, stepSeconds: [Double], transcript: String) {
        let options = try RunOptions.parse(arguments + ["--out", out.path])
        let notebook = try Notebook(chapter: "budget-test", title: "Budget", options: options, trainings: [("linear", 1)])
        let model = Model()
        var rng = RandomGenerator(seed: 5), series: [String: [Double]] = [:], seconds: [Double] = []
        let outcome = try notebook.train("linear", model.checkpoint, file: "linear.safetensors", plan: TrainingPlan(epochs: 20, stepsPerEpoch: 50),
                                         generator: &rng, series: &series) { _, rng, series in
            let start = Date()
            if pause > 0 { Thread.sleep(forTimeInterval: pause) }
            let loss = model.step(using: &rng)
            series["loss", default: []].append(loss)
            seconds.append(Date().timeIntervalSince(start))
            return [("loss", loss)]
        }
        try notebook.finish()
        let transcript = try String(contentsOf: out.appendingPathComponent("transcript.json"), encoding: .utf8)
        return (outcome, seconds, transcript)
    }

    @Test func minutesStopWithinOneStepOfTheBudgetAndStepsRepeatTheRunByteForByte() throws {
        let (first, second) = (folder(), folder())
        defer { for url in [first, second] { try? FileManager.default.removeItem(at: url) } }
        let budget = 0.01 * 60                                                          // --minutes 0.01: 0.6 s
        let budgeted = try run(["--minutes", "0.01"], out: first, pause: 0.02)
        let outcome = budgeted.outcome
        #expect(!outcome.isComplete && outcome.steps == budgeted.stepSeconds.count && outcome.steps > 5)
        #expect(budgeted.stepSeconds.dropLast().reduce(0, +) < budget, "no step starts after the budget is spent")
        #expect(budgeted.stepSeconds.reduce(0, +) >= budget - 0.05, "the budget is used up to its last step")
        #expect(budgeted.transcript.contains("linear: 1000 steps to train, about"))
        #expect(budgeted.transcript.contains("to repeat this run exactly (same seed, same machine): --steps \(outcome.steps)"))

        let checkpoint = first.appendingPathComponent("linear.safetensors")
        let counters = try Model().checkpoint.load(from: checkpoint).counters
        #expect(counters["step"] == outcome.steps)
        #expect(TrainingRecord.read(for: checkpoint)?.steps == outcome.steps)
        let manifest = try JSONDecoder().decode(RunManifest.self, from: Data(contentsOf: first.appendingPathComponent("manifest.json")))
        #expect(manifest.trainings == [outcome])

        let repeated = try run(["--steps", String(outcome.steps)], out: second)
        #expect(repeated.outcome.steps == outcome.steps)
        #expect(try Data(contentsOf: second.appendingPathComponent("linear.safetensors")) == Data(contentsOf: checkpoint))
    }

    /// A budgeted run continues with `--resume` from where its budget ended, to the same end as a
    /// run that was never stopped.
    @Test func aBudgetedRunResumesToTheUninterruptedResult() throws {
        let (stopped, straight) = (folder(), folder())
        defer { for url in [stopped, straight] { try? FileManager.default.removeItem(at: url) } }
        let first = try run(["--steps", "437"], out: stopped)
        #expect(first.outcome.steps == 437)
        let resumed = try run(["--resume"], out: stopped)
        #expect(resumed.outcome.resumedAt == 437 && resumed.outcome.steps == 1000 && resumed.stepSeconds.count == 563)
        _ = try run([], out: straight)
        #expect(try Data(contentsOf: stopped.appendingPathComponent("linear.safetensors"))
                == Data(contentsOf: straight.appendingPathComponent("linear.safetensors")))
    }

    @Test func stepsMustGiveOneCountPerTraining() throws {
        let options = try RunOptions.parse(["--steps", "10,20", "--out", folder().path])
        let error = try #require(throws: ChapterError.self) {
            _ = try Notebook(chapter: "budget-test", title: "Budget", options: options, trainings: [("a", 0.5), ("b", 0.25), ("c", 0.25)])
        }
        #expect(error.description == "--steps gives 2 count(s), and this chapter trains 3 model(s) (a, b, c): one count each, in that order")
    }

    @Test func impossibleBudgetsAreRefusedByName() throws {
        /// What the parser says to the reader about `arguments`, or nil when they parse.
        func complaint(_ arguments: [String]) -> String? {
            do { _ = try RunOptions.parse(arguments); return nil } catch { return RunOptions.message(for: error) }
        }
        #expect(complaint(["--minutes", "0"]) == "--minutes must be a positive number of minutes (at most 100000), got 0.0")
        #expect(complaint(["--minutes", "-2"])?.contains("--minutes") == true)
        #expect(complaint(["--steps", "10,x"])?.contains("--steps") == true)
        #expect(complaint(["--steps", "0"])?.contains("--steps") == true)
        #expect(complaint(["--minutes", "1", "--steps", "10"]) == "--minutes and --steps cannot be used together: one sets a time, the other the exact steps")
        #expect(complaint(["--minutes", "2.5", "--train-only"]) == nil)
        #expect(StepCounts(argument: "1350, 120,400")?.counts == [1350, 120, 400])
    }
}
