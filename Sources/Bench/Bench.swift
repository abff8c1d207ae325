import ArgumentParser
import Evaluation
import Foundation
import GenerativeModels
import NeuralNetworks

/// The benchmark workloads, timed the way `Scripts/torch-bench.py` times their PyTorch twins, printed
/// as JSON lines so the two can be compared as ratios in one run (`Scripts/compare-speed`).
///
/// The first five are the specified workloads (gemm, conv and the source's full-width models); the
/// `-chapter-step` ones and `classifier-step` are the training steps the chapters' default runs take.
@main
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "Bench",
        abstract: "Times the benchmark workloads and prints one JSON object per line.",
        discussion: "Warm-up calls are untimed; each reported value is the median of the timed repetitions. Progress goes to stderr.")

    @Option(help: "Run only this workload (\(Workload.allCases.map(\.rawValue).joined(separator: ", "))).")
    var only: Workload?

    @Option(help: "Threads for the kernels (default: every core).")
    var threads: Int?

    @Option(help: "Timed repetitions per workload (default 10; at least 5 for a reportable number).")
    var reps: Int = 10

    @Option(help: "Untimed warm-up calls per workload.")
    var warmup: Int = 3

    @Option(help: "TinyUNet's width for ddpm-step (32 is the specified network; the diffusion chapter trains at 16).")
    var unetWidth: Int = 32

    func validate() throws {
        do { _ = try GemmPlan.requestedTile() } catch { throw ValidationError("\(error)") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
        if reps < 1 { throw ValidationError("--reps must be at least 1, got \(reps)") }
        if warmup < 0 { throw ValidationError("--warmup must not be negative, got \(warmup)") }
        if unetWidth < 8 || unetWidth % 8 != 0 { throw ValidationError("--unet-width must be a positive multiple of 8, got \(unetWidth)") }
    }

    func run() throws {
        if let threads { Parallel.threadCount = threads }
        describeMachine()
        let timer = Timer(reps: reps, warmup: warmup)
        for workload in Workload.allCases where only == nil || only == workload {
            workload.run(timer, unetWidth: unetWidth)
        }
    }
}

enum Workload: String, CaseIterable, ExpressibleByArgument {
    case gemm, conv
    case dcganStep = "dcgan-step"
    case vaeStep = "vae-step"
    case ddpmStep = "ddpm-step"
    case ganChapterStep = "gan-chapter-step"
    case vaeChapterStep = "vae-chapter-step"
    case ddpmChapterStep = "ddpm-chapter-step"
    case classifierStep = "classifier-step"

    func run(_ timer: Timer, unetWidth: Int) {
        switch self {
        case .gemm: benchGemm(timer)
        case .conv: benchConv(timer)
        case .dcganStep: benchDCGAN(timer, widths: [512, 256, 128], imageChannels: 3, name: rawValue)
        case .vaeStep: benchVAE(timer)
        case .ddpmStep: benchDDPM(timer, width: unetWidth)
        case .ganChapterStep: benchDCGAN(timer, widths: [64, 32, 16], imageChannels: 1, name: rawValue)
        case .vaeChapterStep: benchChapterVAE(timer)
        case .ddpmChapterStep: benchChapterDDPM(timer)
        case .classifierStep: benchClassifier(timer)
        }
    }
}

/// One line about the machine and the plan the kernels made for it, before any workload: a speed
/// figure means nothing without the processor it was measured on.
func describeMachine() {
    let processor = Processor.current, plan = GemmPlan.current
    log("[machine] \(processor.model); \(processor.vectorBits)-bit vectors, \(processor.vectorRegisters) registers; "
        + "L1 \(processor.level1Bytes >> 10) KiB, L2 \(processor.level2Bytes >> 10) KiB, L3 \(processor.level3Bytes >> 10) KiB; "
        + "GEMM \(plan); \(Parallel.threadCount) thread(s)")
    emit([("workload", "machine"), ("impl", "swift"), ("processor", processor.model), ("vector_bits", processor.vectorBits),
          ("vector_registers", processor.vectorRegisters), ("l1_bytes", processor.level1Bytes), ("l2_bytes", processor.level2Bytes),
          ("l3_bytes", processor.level3Bytes), ("gemm_tile", plan.tile.rawValue), ("kc", plan.kc), ("mc", plan.mc), ("nc", plan.nc)])
}

/// Warm-up, then `reps` timed repetitions; a repetition repeats the call until it lasts
/// `minimumRepetitionSeconds` (for fast calls), and the value is seconds per call.
struct Timer {
    let reps: Int, warmup: Int

    func secondsPerCall(minimumRepetitionSeconds: Double = 0, _ call: () -> Void) -> (median: Double, min: Double, max: Double, inner: Int) {
        for _ in 0..<warmup { call() }
        var inner = 1
        if minimumRepetitionSeconds > 0 {
            let one = measure(call)
            inner = max(1, Int((minimumRepetitionSeconds / max(one, 1e-9)).rounded(.up)))
        }
        let times = (0..<reps).map { _ in measure { for _ in 0..<inner { call() } } / Double(inner) }.sorted()
        let median = times.count % 2 == 1 ? times[times.count / 2] : (times[times.count / 2 - 1] + times[times.count / 2]) / 2
        return (median, times.first!, times.last!, inner)
    }

    private func measure(_ body: () -> Void) -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }
}

/// Prints one JSON line to stdout.
func emit(_ fields: [(String, Any)]) {
    let all = fields + [("threads", Parallel.threadCount)]
    let body = all.map { key, value -> String in
        let rendered: String
        switch value {
        case let text as String: rendered = "\"\(text)\""
        case let number as Double: rendered = String(format: "%.6g", number)
        default: rendered = "\(value)"
        }
        return "\"\(key)\":\(rendered)"
    }.joined(separator: ",")
    FileHandle.standardOutput.write(Data("{\(body)}\n".utf8))
}

/// The JSON line of a training step: images per second over the median step.
extension Timer {
    /// Seconds per optimisation step on the loss that `loss` computes: forward, backward, update.
    func secondsPerStep(_ optimizer: any Optimizer, loss: () -> Tensor) -> (median: Double, min: Double, max: Double, inner: Int) {
        secondsPerCall {
            let value = loss()
            optimizer.zeroGrad()
            value.backward()
            optimizer.step()
        }
    }
}

func emitStep(_ workload: String, batch: Int, _ t: (median: Double, min: Double, max: Double, inner: Int), extra: [(String, Any)] = []) {
    emit([("workload", workload), ("impl", "swift")] + extra + [("batch", batch), ("unit", "img/s"), ("value", Double(batch) / t.median),
         ("median_s", t.median), ("min_s", t.min), ("max_s", t.max)])
}

func log(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

// MARK: - gemm

/// C = A·B for square n×n float32 matrices; GFLOP/s = 2n³ / seconds.
func benchGemm(_ timer: Timer) {
    var rng = RandomGenerator(seed: 0)
    for n in [256, 512, 1024] {
        let a = Tensor.randomNormal([n, n], using: &rng), b = Tensor.randomNormal([n, n], using: &rng)
        log("[gemm] n=\(n)")
        let t = timer.secondsPerCall(minimumRepetitionSeconds: 0.2) { _ = a.matmul(b) }
        emit([("workload", "gemm"), ("impl", "swift"), ("n", n), ("unit", "GFLOP/s"),
              ("value", 2 * pow(Double(n), 3) / t.median / 1e9), ("reps", timer.reps), ("calls_per_rep", t.inner),
              ("median_s", t.median), ("min_s", t.min), ("max_s", t.max)])
    }
}

// MARK: - conv

/// Conv2d 64→128, 3×3, stride 1, padding 1, bias, batch 64 of 16×16: forward, then the gradients
/// to input, weight and bias for an upstream gradient of ones.
func benchConv(_ timer: Timer) {
    var rng = RandomGenerator(seed: 0)
    let conv = Conv2d(inputChannels: 64, outputChannels: 128, kernelSize: 3, stride: 1, padding: 1, using: &rng)
    log("[params] conv Conv2d(64->128,k3): \(conv.parameterCount)")
    let x = Tensor.randomNormal([64, 64, 16, 16], using: &rng)
    x.requiresGrad = true
    let ones = Tensor.ones([64, 128, 16, 16])
    let t = timer.secondsPerCall(minimumRepetitionSeconds: 0.2) {
        let y = conv(x)
        _ = y.gradients(withRespectTo: [x] + conv.parameters, upstream: ones)
    }
    emit([("workload", "conv"), ("impl", "swift"), ("batch", 64), ("unit", "ms"), ("value", t.median * 1e3),
          ("reps", timer.reps), ("calls_per_rep", t.inner), ("median_s", t.median), ("min_s", t.min), ("max_s", t.max)])
}

// MARK: - dcgan-step

/// One GAN iteration on 64 images of 32×32: the discriminator's step on real and detached fake
/// images, then the generator's step through the frozen discriminator. `dcgan-step` is the source's
/// full-width DCGAN on 3 channels; `gan-chapter-step` the GAN chapter's default, 64-32-16 on one.
func benchDCGAN(_ timer: Timer, widths: [Int], imageChannels: Int, name: String) {
    var rng = RandomGenerator(seed: 0)
    let batch = 64
    let generator = DCGANGenerator(latentCount: 100, widths: widths, imageChannels: imageChannels, using: &rng)
    let discriminator = DCGANDiscriminator(widths: widths.reversed(), imageChannels: imageChannels, using: &rng)
    log("[params] \(name) G: \(generator.parameterCount)  D: \(discriminator.parameterCount)")
    let generatorOptimizer = Adam(generator.parameters, learningRate: 2e-4, betas: (0.5, 0.999))
    let discriminatorOptimizer = Adam(discriminator.parameters, learningRate: 2e-4, betas: (0.5, 0.999))
    let real = Tensor.randomUniform([batch, imageChannels, 32, 32], low: -1, high: 1, using: &rng)
    let ones = Tensor.ones([batch]), zeros = Tensor.zeros([batch])
    let t = timer.secondsPerCall {
        let fake = generator(Tensor.randomNormal([batch, 100, 1, 1], using: &rng))
        let discriminatorLoss = binaryCrossEntropyWithLogits(discriminator(real), ones)
            + binaryCrossEntropyWithLogits(discriminator(fake.detached()), zeros)
        discriminatorOptimizer.zeroGrad()
        discriminatorLoss.backward()
        discriminatorOptimizer.step()
        discriminator.setRequiresGrad(false)
        let generatorLoss = binaryCrossEntropyWithLogits(discriminator(fake), ones)
        generatorOptimizer.zeroGrad()
        generatorLoss.backward()
        discriminator.setRequiresGrad(true)
        generatorOptimizer.step()
    }
    emitStep(name, batch: batch, t)
}

// MARK: - vae-step

/// One training step of the source's VAE on 64 images of 3×32×32: MSE (mean) + 10⁻³ · KL, Adam 10⁻³.
func benchVAE(_ timer: Timer) {
    var rng = RandomGenerator(seed: 0)
    let batch = 64
    let model = VariationalAutoencoder(imageChannels: 3, latentCount: 32, using: &rng)
    let encoderCount = [model.conv1, model.conv2, model.conv3].reduce(0) { $0 + $1.parameterCount }
        + model.meanHead.parameterCount + model.logVarianceHead.parameterCount
    log("[params] vae encoder: \(encoderCount)  decoder: \(model.parameterCount - encoderCount)  total: \(model.parameterCount)")
    let optimizer = Adam(model.parameters, learningRate: 1e-3)
    let x = Tensor.randomUniform([batch, 3, 32, 32], low: -1, high: 1, using: &rng)
    let t = timer.secondsPerStep(optimizer) {
        let (mean, logVariance) = model.encode(x)
        let z = VariationalAutoencoder.reparameterize(mean: mean, logVariance: logVariance, using: &rng)
        return mseLoss(model.decode(z), x) + gaussianKLDivergence(mean: mean, logVariance: logVariance) * 1e-3
    }
    emitStep("vae-step", batch: batch, t)
}

// MARK: - ddpm-step

/// One denoising step of TinyUNet on 64 images of 1×28×28: a random step t per image, x_t from the
/// closed form with the linear β schedule (10⁻⁴ → 0.02 over 1000 steps), MSE to the noise, Adam 2·10⁻⁴.
func benchDDPM(_ timer: Timer, width: Int) {
    var rng = RandomGenerator(seed: 0)
    let batch = 64, steps = 1000
    let model = TinyUNet(width: width, using: &rng)
    log("[params] TinyUNet: \(model.parameterCount)")
    let optimizer = Adam(model.parameters, learningRate: 2e-4)
    var product = 1.0
    let alphaBars = (0..<steps).map { step -> Double in
        product *= 1 - (1e-4 + (0.02 - 1e-4) * Double(step) / Double(steps - 1))
        return product
    }
    let x0 = Tensor.randomUniform([batch, 1, 28, 28], low: -1, high: 1, using: &rng)
    let t = timer.secondsPerStep(optimizer) {
        let timesteps = (0..<batch).map { _ in rng.nextInt(below: steps) }
        let noise = Tensor.randomNormal([batch, 1, 28, 28], using: &rng)
        let signal = Tensor(timesteps.map { alphaBars[$0].squareRoot() }, shape: [batch, 1, 1, 1], dtype: .float32)
        let spread = Tensor(timesteps.map { (1 - alphaBars[$0]).squareRoot() }, shape: [batch, 1, 1, 1], dtype: .float32)
        return mseLoss(model(x0 * signal + noise * spread, timesteps: timesteps), noise)
    }
    emitStep("ddpm-step", batch: batch, t, extra: [("width", width)])
}

// MARK: - the chapters' default steps

/// The VAE chapter's step: one channel, batch 128, the per-image negative ELBO with s = 0.3
/// (‖x − x̂‖² / 2s² summed over pixels, plus KL, both averaged over the batch), Adam 10⁻³.
func benchChapterVAE(_ timer: Timer) {
    var rng = RandomGenerator(seed: 0)
    let batch = 64, spread = 0.3
    let model = VariationalAutoencoder(imageChannels: 1, latentCount: 32, using: &rng)
    log("[params] vae-chapter-step: \(model.parameterCount)")
    let optimizer = Adam(model.parameters, learningRate: 1e-3)
    let x = Tensor.randomUniform([batch, 1, 32, 32], low: -1, high: 1, using: &rng)
    let t = timer.secondsPerStep(optimizer) {
        let (mean, logVariance) = model.encode(x)
        let z = VariationalAutoencoder.reparameterize(mean: mean, logVariance: logVariance, using: &rng)
        let reconstruction = mseLoss(model.decode(z), x, reduction: .sum) * (1 / (2 * spread * spread * Double(batch)))
        return reconstruction + gaussianKLDivergence(mean: mean, logVariance: logVariance)
    }
    emitStep("vae-chapter-step", batch: batch, t)
}

/// The diffusion chapter's step: TinyUNet at width 16 with a table of ten classes and the null
/// label, labels dropped with probability 0.2, batch 64 of 1×28×28, Adam 10⁻³.
func benchChapterDDPM(_ timer: Timer) {
    var rng = RandomGenerator(seed: 0)
    let batch = 64, classCount = 10
    let model = TinyUNet(width: 16, classCount: classCount, using: &rng)
    log("[params] ddpm-chapter-step: \(model.parameterCount)")
    let optimizer = Adam(model.parameters, learningRate: 1e-3)
    let diffusion = GaussianDiffusion(schedule: .linear())
    let x0 = Tensor.randomUniform([batch, 1, 28, 28], low: -1, high: 1, using: &rng)
    let labels = (0..<batch).map { $0 % classCount }
    let t = timer.secondsPerStep(optimizer) {
        let steps = (0..<batch).map { _ in rng.nextInt(below: 1000) }
        let noise = Tensor.randomNormal(x0.shape, using: &rng)
        let dropped = labels.map { rng.nextUniform() < 0.2 ? classCount : $0 }
        return mseLoss(model(diffusion.noised(x0, steps: steps, noise: noise), timesteps: steps, labels: dropped), noise)
    }
    emitStep("ddpm-chapter-step", batch: batch, t)
}

/// A step of the FID-FMNIST classifier's training: widths 16/32/64 and 128 features, batch 64 of
/// 1×32×32, cross-entropy, Adam 2·10⁻³.
func benchClassifier(_ timer: Timer) {
    var rng = RandomGenerator(seed: 0)
    let batch = 64
    let model = FashionClassifier(widths: [16, 32, 64], featureCount: 128, using: &rng)
    log("[params] classifier-step: \(model.parameterCount)")
    let optimizer = Adam(model.parameters, learningRate: 2e-3)
    let x = Tensor.randomUniform([batch, 1, 32, 32], low: -1, high: 1, using: &rng)
    let labels = (0..<batch).map { $0 % FashionClassifier.classCount }
    let t = timer.secondsPerStep(optimizer) {
        return crossEntropy(model(x), labels: labels)
    }
    emitStep("classifier-step", batch: batch, t)
}
