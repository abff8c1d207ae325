import ArgumentParser
import Foundation
import GenerativeModels
import NeuralNetworks

/// The workloads of benchmarks.md, timed the way the PyTorch reference script times them, printed as
/// JSON lines so the two can be compared as ratios in one run.
@main
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
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
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
        if reps < 1 { throw ValidationError("--reps must be at least 1, got \(reps)") }
        if warmup < 0 { throw ValidationError("--warmup must not be negative, got \(warmup)") }
        if unetWidth < 8 || unetWidth % 8 != 0 { throw ValidationError("--unet-width must be a positive multiple of 8, got \(unetWidth)") }
    }

    func run() throws {
        if let threads { Parallel.threadCount = threads }
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

    func run(_ timer: Timer, unetWidth: Int) {
        switch self {
        case .gemm: benchGemm(timer)
        case .conv: benchConv(timer)
        case .dcganStep: benchDCGAN(timer)
        case .vaeStep: benchVAE(timer)
        case .ddpmStep: benchDDPM(timer, width: unetWidth)
        }
    }
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

/// One GAN iteration of the source's full-width DCGAN on 64 images of 3×32×32: the discriminator's
/// step on real and detached fake images, then the generator's step through the frozen discriminator.
func benchDCGAN(_ timer: Timer) {
    var rng = RandomGenerator(seed: 0)
    let batch = 64
    let generator = DCGANGenerator(latentCount: 100, widths: [512, 256, 128], imageChannels: 3, using: &rng)
    let discriminator = DCGANDiscriminator(widths: [128, 256, 512], imageChannels: 3, using: &rng)
    log("[params] dcgan G: \(generator.parameterCount)  D: \(discriminator.parameterCount)")
    let generatorOptimizer = Adam(generator.parameters, learningRate: 2e-4, betas: (0.5, 0.999))
    let discriminatorOptimizer = Adam(discriminator.parameters, learningRate: 2e-4, betas: (0.5, 0.999))
    let real = Tensor.randomUniform([batch, 3, 32, 32], low: -1, high: 1, using: &rng)
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
    emit([("workload", "dcgan-step"), ("impl", "swift"), ("batch", batch), ("unit", "img/s"), ("value", Double(batch) / t.median),
          ("reps", timer.reps), ("median_s", t.median), ("min_s", t.min), ("max_s", t.max)])
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
    let t = timer.secondsPerCall {
        let (mean, logVariance) = model.encode(x)
        let z = VariationalAutoencoder.reparameterize(mean: mean, logVariance: logVariance, using: &rng)
        let loss = mseLoss(model.decode(z), x) + gaussianKLDivergence(mean: mean, logVariance: logVariance) * 1e-3
        optimizer.zeroGrad()
        loss.backward()
        optimizer.step()
    }
    emit([("workload", "vae-step"), ("impl", "swift"), ("batch", batch), ("unit", "img/s"), ("value", Double(batch) / t.median),
          ("reps", timer.reps), ("median_s", t.median), ("min_s", t.min), ("max_s", t.max)])
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
    let t = timer.secondsPerCall {
        let timesteps = (0..<batch).map { _ in rng.nextInt(below: steps) }
        let noise = Tensor.randomNormal([batch, 1, 28, 28], using: &rng)
        let signal = Tensor(timesteps.map { alphaBars[$0].squareRoot() }, shape: [batch, 1, 1, 1], dtype: .float32)
        let spread = Tensor(timesteps.map { (1 - alphaBars[$0]).squareRoot() }, shape: [batch, 1, 1, 1], dtype: .float32)
        let loss = mseLoss(model(x0 * signal + noise * spread, timesteps: timesteps), noise)
        optimizer.zeroGrad()
        loss.backward()
        optimizer.step()
    }
    emit([("workload", "ddpm-step"), ("impl", "swift"), ("width", width), ("batch", batch), ("unit", "img/s"), ("value", Double(batch) / t.median),
          ("reps", timer.reps), ("median_s", t.median), ("min_s", t.min), ("max_s", t.max)])
}
