import Foundation
import Testing
import NeuralNetworks

/// Checkpoints whose counts no run can have reached (the fuzzer's step of `Int.max`, an epoch of
/// −5 or `Int.min`) are refused with the reason, and nothing is trained from them.
@Suite struct HostileCheckpointTests {
    /// A linear model with Adam, its checkpoint written by `runSteps` (one step an epoch).
    private struct Run {
        let model: Linear
        let optimizer: Adam
        let url: URL

        /// A fresh model, whose checkpoint is `url`.
        init(url: URL = FileManager.default.temporaryDirectory.appendingPathComponent("hostile-\(UUID()).safetensors")) {
            self.url = url
            var rng = RandomGenerator(seed: 3)
            model = Linear(inputCount: 3, outputCount: 2, using: &rng)
            optimizer = Adam(model.parameters)
        }

        var checkpoint: Checkpoint { Checkpoint(models: [("model", model)], optimizers: [("adam", optimizer)]) }

        /// Runs `runSteps` for `epochs` epochs of one step; returns the epochs that were trained.
        @discardableResult
        func train(epochs: Int, resume: Bool) throws -> [Int] {
            var generator = RandomGenerator(seed: 4), series: [String: [Double]] = [:], trained: [Int] = []
            try checkpoint.runSteps(TrainingPlan(epochs: epochs, stepsPerEpoch: 1), checkpoint: url, resume: resume,
                                    generator: &generator, series: &series) { step, rng, _ in
                let loss = mseLoss(model(Tensor.randomNormal([4, 3], using: &rng)), Tensor.zeros([4, 2]))
                optimizer.zeroGrad()
                loss.backward()
                optimizer.step()
                trained.append(step.epoch)
            }
            return trained
        }

        /// Rewrites metadata values of the saved checkpoint; a nil value removes its key.
        func edit(_ changes: [String: String?]) throws {
            var file = try SafeTensors(contentsOf: url)
            for (key, value) in changes { file.metadata[key] = value }
            try file.write(to: url)
        }
    }

    @Test func anAdamStepOfIntMaxIsRefused() throws {
        let run = Run()
        defer { try? FileManager.default.removeItem(at: run.url) }
        try run.train(epochs: 1, resume: false)
        try run.edit(["optimizer.adam.step": String(Int.max)])
        let resumed = Run(url: run.url)
        let error = try #require(throws: SafeTensorsError.self) { try resumed.train(epochs: 2, resume: true) }
        #expect(error.description == "\(run.url.path): not a readable safetensors file: metadata 'optimizer.adam.step' is '9223372036854775807'; "
                + "a saved count is a whole number from 0 to 9007199254740992")
        #expect(resumed.optimizer.stepCount == 0)
    }

    @Test func countsBelowZeroOrNotNumbersAreRefused() throws {
        for key in ["counter.epoch", "counter.step", "counter.steps-per-epoch"] {
            for value in ["-5", String(Int.min), "2.5", "three", String(Checkpoint.countRange.upperBound + 1)] {
                let run = Run()
                defer { try? FileManager.default.removeItem(at: run.url) }
                try run.train(epochs: 1, resume: false)
                try run.edit([key: value])
                var trained: [Int]?
                let error = try #require(throws: SafeTensorsError.self) { trained = try Run(url: run.url).train(epochs: 3, resume: true) }
                #expect(error.problem == "metadata '\(key)' is '\(value)'; a saved count is a whole number from 0 to 9007199254740992")
                #expect(trained == nil)
            }
        }
    }

    @Test func aCheckpointThatDoesNotSayHowFarItGotIsNotResumed() throws {
        let run = Run()
        defer { try? FileManager.default.removeItem(at: run.url) }
        try run.train(epochs: 1, resume: false)
        try run.edit(["counter.epoch": nil, "counter.step": nil])
        let error = try #require(throws: SafeTensorsError.self) { try Run(url: run.url).train(epochs: 3, resume: true) }
        #expect(error.problem == "no counter.step or counter.epoch in its metadata, so it does not say where to continue")
    }

    /// A checkpoint written before step counts were saved continues after the epochs it names.
    @Test func aCheckpointThatNamesOnlyItsEpochContinuesAfterIt() throws {
        let run = Run()
        defer { try? FileManager.default.removeItem(at: run.url) }
        try run.train(epochs: 2, resume: false)
        try run.edit(["counter.step": nil, "counter.steps-per-epoch": nil])
        #expect(try Run(url: run.url).train(epochs: 3, resume: true) == [2])
    }

    @Test func aBrokenRandomGeneratorStateIsRefused() throws {
        let run = Run()
        defer { try? FileManager.default.removeItem(at: run.url) }
        try run.train(epochs: 1, resume: false)
        try run.edit(["rng": "1,2,3,4,zz"])
        let error = try #require(throws: SafeTensorsError.self) { try Run(url: run.url).checkpoint.load(from: run.url) }
        #expect(error.problem == "no valid random generator state in its metadata")
    }

    /// Adam checks the count it is given, whoever gives it.
    @Test func adamRefusesAStepCountItCouldNotContinueFrom() throws {
        let run = Run()
        let state = run.optimizer.stateDict()
        let tensors = Dictionary(uniqueKeysWithValues: state.tensors.map { ($0.name, $0.tensor) })
        #expect(throws: StateDictError.invalidCount("step", Int.max)) { try run.optimizer.load(stateDict: tensors, counters: ["step": Int.max]) }
        #expect(throws: StateDictError.invalidCount("step", -1)) { try run.optimizer.load(stateDict: tensors, counters: ["step": -1]) }
        #expect("\(StateDictError.invalidCount("step", -1))" == "state dict: counter 'step' is -1, which no run can have reached")
        try run.optimizer.load(stateDict: tensors, counters: ["step": 41])
        #expect(run.optimizer.stepCount == 41)
    }
}
