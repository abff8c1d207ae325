import Foundation
import Testing
import NeuralNetworks
import TestSupport

extension TinyTraining {
    /// What a resumed run must reproduce: the weights, the average's and Adam's second moments.
    var weights: [Float] { model.stateDict().flatMap(\.tensor.floats) + average.shadows.flatMap(\.floats) + optimizer.secondMoments.flatMap(\.floats) }
}

@Suite struct CheckpointTests {
    @Test func resumingGivesTheSameWeightsAsAnUninterruptedRun() throws {
        var straight = TinyTraining()
        for _ in 0..<10 { straight.step() }

        let url = FileManager.default.temporaryDirectory.appendingPathComponent("resume-\(UUID()).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        var first = TinyTraining()
        for _ in 0..<4 { first.step() }
        try first.checkpoint.save(to: url, generator: first.generator, counters: ["step": 4])

        var resumed = TinyTraining()          // fresh weights and optimizer, as after a restart
        let (generator, counters, _) = try resumed.checkpoint.load(from: url)
        resumed.generator = generator
        #expect(counters["step"] == 4 && resumed.optimizer.stepCount == 4)
        for _ in counters["step"]!..<10 { resumed.step() }
        #expect(resumed.weights == straight.weights)
    }

    /// Trains `plan` with `runSteps` (three steps an epoch here); `stopBefore` ends the run before
    /// that step as a budget would, `killBefore` as a crash would (by throwing). Returns the run, its
    /// series, the steps it trained and the epoch ends it reported.
    private func train(_ plan: TrainingPlan, url: URL, resume: Bool, stopBefore: Int? = nil, killBefore: Int? = nil) throws
        -> (run: TinyTraining, series: [String: [Double]], trained: [Int], ends: [String]) {
        var run = TinyTraining(), series: [String: [Double]] = [:], trained: [Int] = [], ends: [String] = []
        var generator = run.generator
        try run.checkpoint.runSteps(plan, checkpoint: url, resume: resume, generator: &generator, series: &series,
                                    shouldContinue: { $0.index != stopBefore }) { step, rng, series in
            if step.index == killBefore { throw CancellationError() }
            run.generator = rng
            run.step()
            rng = run.generator
            series["step", default: []].append(Double(step.index))
            trained.append(step.index)
        } epochEnded: { epoch, complete in
            ends.append("\(epoch)\(complete ? "" : " (partial)")")
        }
        return (run, series, trained, ends)
    }

    @Test func runStepsResumesInsideAnEpochWhereABudgetStoppedIt() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("steps-\(UUID()).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        let plan = TrainingPlan(epochs: 4, stepsPerEpoch: 3)
        let straight = try train(plan, url: url, resume: false)
        #expect(straight.trained == Array(0..<12) && straight.ends == ["0", "1", "2", "3"])
        let straightBytes = try Data(contentsOf: url)
        try FileManager.default.removeItem(at: url)

        let stopped = try train(plan, url: url, resume: false, stopBefore: 7)            // inside epoch 2
        #expect(stopped.trained == Array(0..<7) && stopped.ends == ["0", "1", "2 (partial)"])
        let counters = try stopped.run.checkpoint.load(from: url).counters
        #expect(counters["step"] == 7 && counters["epoch"] == 2 && counters["steps-per-epoch"] == 3)
        let resumed = try train(plan, url: url, resume: true)
        #expect(resumed.trained == Array(7..<12) && resumed.ends == ["2", "3"])
        #expect(resumed.series == straight.series)
        #expect(resumed.run.weights == straight.run.weights)
        #expect(try Data(contentsOf: url) == straightBytes, "the checkpoint of a resumed run is the uninterrupted run's, byte for byte")
    }

    @Test func runStepsResumesAfterTheLastSavedEpochWhenKilled() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("killed-\(UUID()).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        let plan = TrainingPlan(epochs: 4, stepsPerEpoch: 3)
        let straight = try train(plan, url: url, resume: false)
        try FileManager.default.removeItem(at: url)
        #expect(throws: CancellationError.self) { _ = try self.train(plan, url: url, resume: false, killBefore: 8) }
        let resumed = try train(plan, url: url, resume: true)
        #expect(resumed.trained == Array(6..<12), "steps 6 and 7 were lost with the process and are trained again")
        #expect(resumed.series == straight.series && resumed.run.weights == straight.run.weights)
    }

    @Test func aCheckpointOfEpochsOfAnotherLengthIsNotResumed() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("length-\(UUID()).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        _ = try train(TrainingPlan(epochs: 2, stepsPerEpoch: 3), url: url, resume: false, stopBefore: 4)
        let error = try #require(throws: SafeTensorsError.self) { _ = try self.train(TrainingPlan(epochs: 2, stepsPerEpoch: 5), url: url, resume: true) }
        #expect(error.problem == "it was trained with 3 steps per epoch and this run has 5 (another mode or data size?), so it cannot continue from it")
    }

    @Test func namesFollowPyTorch() throws {
        let run = TinyTraining()
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("names-\(UUID()).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try run.checkpoint.save(to: url, generator: run.generator)
        let names = try SafeTensors(contentsOf: url).tensors.map(\.name)
        #expect(names.contains("model.0.weight") && names.contains("model.1.running_var") && names.contains("model.4.bias"))
        #expect(names.contains("optimizer.adam.0.exp_avg") && names.contains("ema.model.0"))
    }

    @Test func aCheckpointOfAnotherModelIsAClearError() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("other-\(UUID()).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        var rng = RandomGenerator(seed: 0)
        let other = Linear(inputCount: 3, outputCount: 2, using: &rng)
        try Checkpoint(models: [("model", other)]).save(to: url, generator: rng)
        let run = TinyTraining()
        #expect {
            _ = try run.checkpoint.load(from: url)
        } throws: { error in
            "\(error)".contains("missing entry '0.weight'") || "\(error)".contains("unexpected entry")
        }
    }
}
