import Foundation
import Testing
import NeuralNetworks

/// A small training run that can stop after any step and continue from a checkpoint.
private struct TinyRun {
    let model: Sequential
    let optimizer: Adam
    let average: ExponentialMovingAverage
    var generator: RandomGenerator

    init() {
        var rng = RandomGenerator(seed: 11)
        model = Sequential([Conv2d(inputChannels: 1, outputChannels: 4, kernelSize: 3, stride: 2, padding: 1, using: &rng),
                            BatchNorm2d(featureCount: 4), LeakyReLU(negativeSlope: 0.2), Flatten(),
                            Linear(inputCount: 16, outputCount: 1, using: &rng)])
        optimizer = Adam(model.parameters, learningRate: 1e-2, betas: (0.5, 0.999))
        average = ExponentialMovingAverage(model.parameters, decay: 0.9)
        generator = rng
    }

    var checkpoint: Checkpoint { Checkpoint(models: [("model", model)], optimizers: [("adam", optimizer)], averages: [("model", average)]) }

    mutating func step() {
        let x = Tensor.randomNormal([8, 1, 4, 4], using: &generator)
        let target = x.mean(alongAxes: [1, 2, 3]).reshaped([8, 1])
        let loss = mseLoss(model(x), target)
        optimizer.zeroGrad()
        loss.backward()
        optimizer.step()
        average.update()
    }

    var weights: [Float] { model.stateDict().flatMap(\.tensor.floats) + average.shadows.flatMap(\.floats) + optimizer.secondMoments.flatMap(\.floats) }
}

@Suite struct CheckpointTests {
    @Test func resumingGivesTheSameWeightsAsAnUninterruptedRun() throws {
        var straight = TinyRun()
        for _ in 0..<10 { straight.step() }

        let url = FileManager.default.temporaryDirectory.appendingPathComponent("resume-\(UUID()).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        var first = TinyRun()
        for _ in 0..<4 { first.step() }
        try first.checkpoint.save(to: url, generator: first.generator, counters: ["step": 4])

        var resumed = TinyRun()          // fresh weights and optimizer, as after a restart
        let (generator, counters, _) = try resumed.checkpoint.load(from: url)
        resumed.generator = generator
        #expect(counters["step"] == 4 && resumed.optimizer.stepCount == 4)
        for _ in counters["step"]!..<10 { resumed.step() }
        #expect(resumed.weights == straight.weights)
    }

    @Test func runEpochsResumesAfterTheLastSavedEpoch() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("epochs-\(UUID()).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        func train(epochs: Int, resume: Bool, stopAfter: Int? = nil) throws -> (TinyRun, [String: [Double]], [Int]) {
            var run = TinyRun(), series: [String: [Double]] = [:], ran: [Int] = []
            var generator = run.generator
            try run.checkpoint.runEpochs(epochs, checkpoint: url, resume: resume, generator: &generator, series: &series) { epoch, rng, series in
                if let stopAfter, epoch >= stopAfter { throw CancellationError() }
                run.generator = rng
                for _ in 0..<3 { run.step() }
                rng = run.generator
                series["epoch", default: []].append(Double(epoch))
                ran.append(epoch)
            }
            return (run, series, ran)
        }
        let (straight, straightSeries, _) = try train(epochs: 4, resume: false)
        try? FileManager.default.removeItem(at: url)
        #expect(throws: CancellationError.self) { _ = try train(epochs: 4, resume: false, stopAfter: 2) }   // "killed" in epoch 2
        let secondsBefore = try #require(try Checkpoint.trainingSeconds(in: url))
        let (resumed, resumedSeries, ran) = try train(epochs: 4, resume: true)
        #expect(ran == [2, 3])
        let secondsAfter = try #require(try Checkpoint.trainingSeconds(in: url))
        #expect(secondsBefore >= 0 && secondsAfter >= secondsBefore, "training time adds up across runs")
        #expect(resumedSeries == straightSeries)
        #expect(resumed.weights == straight.weights)
    }

    @Test func namesFollowPyTorch() throws {
        let run = TinyRun()
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
        let run = TinyRun()
        #expect {
            _ = try run.checkpoint.load(from: url)
        } throws: { error in
            "\(error)".contains("missing entry '0.weight'") || "\(error)".contains("unexpected entry")
        }
    }
}
