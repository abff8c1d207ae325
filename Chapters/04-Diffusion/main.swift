/*:
 # Chapter 4 · Diffusion models

 A diffusion model (sections 2.3, 3.3 and 4.3 of the source) learns to generate images by learning
 to *clean* them. We destroy training images step by step with Gaussian noise until nothing of
 them is left, and train a network to undo one small step of that destruction. Then we start from
 pure noise and undo all the steps in turn: an image appears.

 The idea is old, but it turned out to be the most reliable way to train an image generator we
 have: the loss is a plain regression, there is no adversary to balance, and the model comes with
 a likelihood bound like the VAE's — while its samples are as sharp as a GAN's.

 Run it with `swift run -c release Diffusion` (before training it says how long that will take on
 your machine; `--minutes M` sets a budget instead), `--quick` for a smoke test, or `--full` to
 train the specified network for many epochs (hours).
 */
import Datasets
import Evaluation
import Foundation
import GenerativeModels
import ImageIO
import NeuralNetworks
import Notebook

do {
    let options = RunOptions.parseOrExit()
    let notebook = try Notebook(
        chapter: "04-Diffusion", title: "Chapter 4 · Diffusion models", options: options,
        trainings: [("U-Net", 1)])
    var rng = RandomGenerator(seed: options.seed)

    /*:
     ## 4.1 · The data

     Fashion-MNIST at its own size, 28×28, pixels scaled to $[-1, 1]$. The scale matters here: the
     noise we add has variance 1, and the data should live on a comparable scale.
     */
    let training = try FashionMNIST.load(
        .train, limit: options.choose(quick: 2048, standard: nil, full: nil))
    let test = try FashionMNIST.load(
        .test, limit: options.choose(quick: 256, standard: nil, full: nil))
    notebook.show("\(training.count) training and \(test.count) test images of "
        + "\(training.imageShape), pixels in [-1, 1]")

    /*:
     ## 4.2 · The forward process: destroying an image

     Following section 2.3 of the source, take an image $x_0$ and, for $t = 1, \dots, T$, shrink it a little and add a little noise:

     $$q(x_t \mid x_{t-1}) = \mathcal N\big(x_t;\ \sqrt{1-\beta_t}\thinspace x_{t-1},\ \beta_t I\big).$$

     The variances $\beta_1 < \dots < \beta_T$ are the *noise schedule*, fixed in advance; nothing here
     is learned. Shrinking by $\sqrt{1-\beta_t}$ keeps the total variance near 1, so after many steps
     $x_T$ is simply $\mathcal N(0, I)$ noise, whatever image we started from.

     We never need to run the chain step by step. With $\alpha_t = 1 - \beta_t$ and
     $\bar\alpha_t = \prod_{s=1}^t \alpha_s$, a sum of independent Gaussians is Gaussian, and unrolling
     the recursion gives the closed form

     $$q(x_t \mid x_0) = \mathcal N\big(x_t;\ \sqrt{\bar\alpha_t}\thinspace x_0,\ (1 - \bar\alpha_t) I\big),
     \qquad\text{i.e.}\qquad x_t = \sqrt{\bar\alpha_t}\thinspace x_0 + \sqrt{1-\bar\alpha_t}\thinspace \epsilon,\quad \epsilon \sim \mathcal N(0, I).$$

     This is the source's `q_sample`, and in our library `GaussianDiffusion.noised`: any noise level
     in one step. $\bar\alpha_t$ is the share of the image's variance still present at step $t$.
     (Arrays count from 0, so the library's step `t` is the paper's step $t + 1$; the formulas below
     use the paper's numbering.)

     **Two schedules.** The DDPM paper's *linear* schedule lets $\beta$ grow from $10^{-4}$ to $0.02$
     over $T = 1000$ steps. The *cosine* schedule of Nichol and Dhariwal instead chooses $\bar\alpha_t$
     directly, $\bar\alpha_t = f(t)/f(0)$ with $f(t) = \cos^2\negthinspace \big(\tfrac{t/T + s}{1 + s}\cdot\tfrac\pi2\big)$,
     $s = 0.008$. The linear schedule has wiped out almost all of the image by the middle of the
     chain, so the last few hundred steps are spent on noise that is already nearly pure; the cosine
     schedule spreads the destruction evenly.
     */
    let diffusion = GaussianDiffusion(schedule: .linear())
    let cosine = NoiseSchedule.cosine()
    let T = diffusion.schedule.stepCount
    try notebook.figure("alpha-bar", svg: LineChart(
        title: "ᾱₜ: how much of the image is left at step t", xLabel: "step t",
        yLabel: "ᾱₜ", series: [
        PlotSeries(name: "linear β 10⁻⁴ → 0.02", x: (1...T).map(Double.init),
                   y: diffusion.schedule.alphaBars),
        PlotSeries(name: "cosine", x: (1...T).map(Double.init), y: cosine.alphaBars),
    ]).svg(), caption: "The signal left after t steps under the two schedules")

    let strip = training.images.slice(0..<1, alongAxis: 0)  // [1, 1, 28, 28]
    let stripSteps = [0, 50, 100, 200, 300, 400, 500, 650, 800, 999]
    let stripNoise = Tensor.randomNormal(strip.shape, using: &rng)
    let noisedStrips = [diffusion.schedule, cosine].flatMap { schedule in
        stripSteps.map {
            GaussianDiffusion(schedule: schedule).noised(strip, steps: [$0], noise: stripNoise)
        }
    }
    try notebook.figure(
        "noising",
        Bitmap(grid: Tensor.concatenate(noisedStrips, alongAxis: 0), range: .minusOneToOne,
               columns: stripSteps.count, scale: 2, rowLabels: ["LINEAR", "COSINE"],
               columnLabels: stripSteps.map { "t=\($0 + 1)" }),
        caption: "One image at steps t = 1 … 1000 of the linear (top) and cosine (bottom) schedules, "
            + "with the same ε")

    /*:
     ## 4.3 · The reverse process, and why we predict the noise

     To generate (section 3.3 of the source), we would like to run the chain backwards: draw $x_T \sim \mathcal N(0, I)$ and then
     sample $x_{t-1}$ given $x_t$ again and again. For small $\beta_t$ that reverse step is close to
     Gaussian too, so we model it as

     $$p_\theta(x_{t-1} \mid x_t) = \mathcal N\big(x_{t-1};\ \mu_\theta(x_t, t),\ \sigma_t^2 I\big)$$

     with a network for the mean and a fixed variance. What should $\mu_\theta$ aim for? If we also knew
     $x_0$, the reverse step would be exact and Gaussian (Bayes' rule on two Gaussians):

     $$q(x_{t-1} \mid x_t, x_0) = \mathcal N\big(\tilde\mu_t,\ \tilde\beta_t I\big),\quad
     \tilde\mu_t = \frac{\sqrt{\bar\alpha_{t-1}}\thinspace \beta_t}{1-\bar\alpha_t}\thinspace x_0 + \frac{\sqrt{\alpha_t}\thinspace (1-\bar\alpha_{t-1})}{1-\bar\alpha_t}\thinspace x_t,
     \quad \tilde\beta_t = \frac{1-\bar\alpha_{t-1}}{1-\bar\alpha_t}\thinspace \beta_t .$$

     The model is trained, like the VAE, on a variational bound of $-\log p_\theta(x_0)$; its terms
     are $\mathrm{KL}\big(q(x_{t-1} \mid x_t, x_0)\thinspace \Vert\thinspace p_\theta(x_{t-1} \mid x_t)\big)$ for every $t$, and with
     $\sigma_t^2 = \tilde\beta_t$ each is $\lVert\tilde\mu_t - \mu_\theta\rVert^2 / 2\tilde\beta_t$. Now substitute
     $x_0 = (x_t - \sqrt{1-\bar\alpha_t}\thinspace \epsilon)/\sqrt{\bar\alpha_t}$ from the closed form: the target mean becomes
     $\tilde\mu_t = \frac{1}{\sqrt{\alpha_t}}\big(x_t - \frac{\beta_t}{\sqrt{1-\bar\alpha_t}}\thinspace \epsilon\big)$. $x_t$ is
     known to the network, so the only thing it has to supply is $\epsilon$: write
     $\mu_\theta = \frac{1}{\sqrt{\alpha_t}}\big(x_t - \frac{\beta_t}{\sqrt{1-\bar\alpha_t}}\thinspace \epsilon_\theta(x_t, t)\big)$ and the
     KL term becomes

     $$\frac{\beta_t^2}{2\tilde\beta_t\thinspace \alpha_t\thinspace (1-\bar\alpha_t)}\ \big\lVert \epsilon - \epsilon_\theta(x_t, t)\big\rVert^2 .$$

     A weighted regression of the noise. Ho et al. found that dropping the weight — a plain mean
     squared error, with $t$ drawn uniformly — trains better samples, because it stops the many
     nearly-clean steps, whose weights are large, from dominating. So training is:

     1. take a batch of images $x_0$, a step $t$ and noise $\epsilon$ for each;
     2. form $x_t = \sqrt{\bar\alpha_t}\thinspace x_0 + \sqrt{1-\bar\alpha_t}\thinspace \epsilon$;
     3. minimise $\lVert\epsilon - \epsilon_\theta(x_t, t)\rVert^2$.

     ## 4.4 · The network

     $\epsilon_\theta$ (section 4.3 of the source) maps an image to an image of the same size, so it is a U-Net: convolutions
     shrink 28×28 to 14×14 and 7×7 and grow it back, and *skip connections* hand each decoder stage
     the encoder's activations at the same size, so fine detail need not squeeze through the 7×7
     bottleneck. The step $t$ enters every residual block: its sinusoidal embedding (sines and cosines
     of $t$ at 32 frequencies, the transformer's position code) goes through two linear layers and
     is added to every pixel's channels. Each residual block is GroupNorm → SiLU → 3×3 convolution,
     twice, plus its input; GroupNorm rather than BatchNorm, because the statistics of a batch of
     images at mixed noise levels mean nothing.

     The network of the benchmark workloads (`ddpm-step`, see the README) has 32, 64 and 128 channels at the three sizes
     (973,249 parameters) and costs about four times the default's work per image (the README's
     speed table measures both), and the model needs many passes over the data. The default run halves every width,
     which cuts the convolutions' work by four, and trains for three epochs; `--full` trains the
     specified network.

     One more input: a class label, added to the time embedding through a learned table, with an
     extra eleventh row meaning "no class". We come back to it in the section on guidance; until then
     we pass "no class" and the model is an ordinary, unconditional one.
     */
    let width = options.choose(quick: 8, standard: 16, full: 32)
    let classCount = 10, noClass = 10
    // The schedule and the sampler `Sample` draws with (DDIM, below) are kept in the checkpoint.
    let model = TinyUNet(width: width, classCount: classCount, schedule: diffusion.schedule.recipe,
                         sampler: .ddim(steps: 50), using: &rng)
    let classTable = model.classEmbedding?.parameterCount ?? 0
    notebook.show("TinyUNet with widths \(width), \(2 * width), \(4 * width): "
        + "\(model.parameterCount) parameters "
        + "(\(model.parameterCount - classTable) without the class table)")

    /// The network as the noise predictor ε_θ(x_t, t, y);
    /// without labels every image gets the null class.
    func noisePredictor(_ network: TinyUNet) -> NoisePredictor {
        { x, steps, labels in
            network(x, timesteps: steps, labels: labels ?? [Int](repeating: noClass, count: x.shape[0]))
        }
    }

    /*:
     ## 4.5 · Training

     Adam with learning rate $10^{-3}$ (small networks tolerate a large one), batches of 64. We keep
     an **exponential moving average** of the weights, $\bar\theta \leftarrow \lambda\bar\theta + (1-\lambda)\theta$
     after every step, and sample with $\bar\theta$: the noise regression's gradients are noisy, and the
     average sits closer to the middle of where the weights wander. The decay $\lambda$ is chosen so
     the average spans the last few hundred of the default run's 2,800 steps.

     Each label is replaced by "no class" with probability 0.2, so the same network also learns the
     unconditional noise prediction that guidance needs (later). A checkpoint, with the averaged
     weights, is written after every epoch; `--resume` continues from it.
     */
    let epochs = options.epochs ?? options.choose(quick: 1, standard: 3, full: 20)
    let batchSize = 64
    let labelDropout = 0.2
    let loader = DataLoader(
        training, batchSize: batchSize, shuffle: true, dropLast: true, seed: options.seed)
    let optimizer = Adam(model.parameters, learningRate: 1e-3)
    let average = ExponentialMovingAverage(
        model.parameters, decay: options.choose(quick: 0.9, standard: 0.998, full: 0.9995))
    var history: [String: [Double]] = [:]
    let unetCheckpoint = Checkpoint(
        models: [("unet", model)], optimizers: [("unet", optimizer)], averages: [("unet", average)])
    try notebook.train("U-Net", unetCheckpoint, file: "diffusion.safetensors",
                       plan: TrainingPlan(epochs: epochs, stepsPerEpoch: loader.batchCount),
                       label: { "epoch \($0 + 1)/\(epochs)" },
                       generator: &rng, series: &history) { step, rng, history in
        let batch = loader.batch(step.batch, ofEpoch: step.epoch)
        let x0 = batch.images                                                   // [B, 1, 28, 28]
        let steps = (0..<x0.shape[0]).map { _ in rng.nextInt(below: T) }        // t uniform
        let noise = Tensor.randomNormal(x0.shape, using: &rng)                  // ε
        let labels = batch.labels.map { rng.nextUniform() < labelDropout ? noClass : $0 }
        let xt = diffusion.noised(x0, steps: steps, noise: noise)               // √ᾱ x₀ + √(1−ᾱ) ε
        let loss = mseLoss(model(xt, timesteps: steps, labels: labels), noise)  // ‖ε − ε_θ(x_t, t)‖²
        optimizer.zeroGrad()
        loss.backward()
        optimizer.step()
        average.update()
        history["loss", default: []].append(loss.item)
        return [("loss", loss.item)]
    }
    model.eval()

    let losses = history["loss"] ?? []
    let window = max(1, losses.count / 150)
    try notebook.figure("loss", svg: LineChart(
        title: "Noise-prediction loss (mean squared error per pixel)", xLabel: "step", yLabel: "MSE",
        logY: true, series: [
        PlotSeries(name: "‖ε − ε_θ(x_t, t)‖² / D, mean of \(window) steps", values: losses,
                   averagingWindow: window),
    ]).svg(), caption: "Training loss")

    /*:
     The loss does not fall toward zero and should not: at large $t$ the image is almost gone, and the
     best guess of $\epsilon$ is about $x_t$ itself; at small $t$ the noise is a faint grain that no
     network can tell apart from fine texture. What improves is the middle.

     ## 4.6 · Sampling, the DDPM way

     Ancestral sampling runs the learned chain: $x_T \sim \mathcal N(0, I)$, then for $t = T, \dots, 1$

     $$x_{t-1} = \frac{1}{\sqrt{\alpha_t}}\Big(x_t - \frac{\beta_t}{\sqrt{1-\bar\alpha_t}}\thinspace \epsilon_\theta(x_t, t)\Big) + \sqrt{\tilde\beta_t}\thinspace z,\qquad z \sim \mathcal N(0, I),$$

     with no noise added at the last step. `GaussianDiffusion.ancestralStep` computes the same mean in
     the equivalent form $\tilde\mu_t(\hat x_0, x_t)$ through the network's current guess of the clean
     image, $\hat x_0 = (x_t - \sqrt{1-\bar\alpha_t}\thinspace \epsilon_\theta)/\sqrt{\bar\alpha_t}$, clipped to $[-1, 1]$:
     early guesses are poor, and clipping keeps them from throwing pixels out of range. That is
     one network pass for each of the 1000 steps.
     */
    let predictor = noisePredictor(model)
    let gridCount = options.choose(quick: 16, standard: 64, full: 64)
    let startNoise = Tensor.randomNormal([gridCount, 1, 28, 28], using: &rng)
    let trajectorySteps: Set = [999, 800, 600, 500, 400, 300, 200, 150, 100, 50, 20, 0]
    var trajectory: [Tensor] = [], guesses: [Tensor] = []
    let ddpmStart = Date()
    let ddpmProgress = notebook.progress("DDPM, 1000 steps, \(gridCount) images", total: T)
    let ddpmSamples = average.withAveragedWeights {
        diffusion.sample(from: startNoise, sampler: .ddpm, using: &rng, predictor: predictor) { step in
            ddpmProgress.advance()
            if trajectorySteps.contains(step.step) {
                trajectory.append(step.x.slice(0..<8, alongAxis: 0))
                guesses.append(step.predictedData.slice(0..<8, alongAxis: 0))
            }
        }
    }
    ddpmProgress.finish()
    let ddpmSeconds = Date().timeIntervalSince(ddpmStart)
    try notebook.figure(
        "ddpm-samples", Bitmap(grid: ddpmSamples, range: .minusOneToOne, columns: 8, scale: 2),
        caption: "\(gridCount) samples, DDPM with 1000 steps "
            + "(\(String(format: "%.0f", ddpmSeconds)) s)")

    /*:
     The denoising trajectory: eight of those samples (rows) at steps $t$ = 1000, 800, … 1 (columns,
     left to right), first the noisy $x_{t-1}$ the chain passed through, then the network's guess
     $\hat x_0$ of the finished image at the same moment. The coarse shape is decided early, while
     $x_t$ still looks like noise; the last hundred steps only add detail.
     */
    /// Rows are images, columns steps: `snapshots` holds one `[8, 1, 28, 28]` batch per step.
    func trajectoryGrid(_ snapshots: [Tensor]) -> Tensor {
        Tensor.concatenate(snapshots.map { $0.reshaped([8, 1, 1, 28, 28]) }, alongAxis: 1)
            .reshaped([8 * snapshots.count, 1, 28, 28])
    }
    let stepLabels = trajectorySteps.sorted(by: >).map { "t=\($0 + 1)" }
    try notebook.figure("trajectory",
                        Bitmap(grid: trajectoryGrid(trajectory), range: .minusOneToOne,
                               columns: trajectory.count, scale: 2, columnLabels: stepLabels),
                        caption: "x along the DDPM chain, from noise (left) to image (right)")
    try notebook.figure("trajectory-guesses",
                        Bitmap(grid: trajectoryGrid(guesses), range: .minusOneToOne,
                               columns: guesses.count, scale: 2, columnLabels: stepLabels),
                        caption: "The network's guess of the finished image at the same steps")

    /*:
     ## 4.7 · Sampling, the DDIM way: fifty steps instead of a thousand

     Song, Meng and Ermon observed that the training loss only ever sees the marginals
     $q(x_t \mid x_0)$, never the step-by-step chain; many reverse processes share those marginals, and
     one of them is deterministic. From $x_t$, predict $\hat x_0$ as before, and jump straight to an
     earlier step $s < t$ by keeping the predicted noise's direction:

     $$x_s = \sqrt{\bar\alpha_s}\thinspace \hat x_0 + \sqrt{1-\bar\alpha_s}\thickspace \epsilon_\theta(x_t, t).$$

     (When $\hat x_0$ is clipped to $[-1, 1]$, the noise is recomputed from it,
     $\epsilon = (x_t - \sqrt{\bar\alpha_t}\thinspace \hat x_0)/\sqrt{1-\bar\alpha_t}$, so that the two still add up to $x_t$.)
     Nothing random is added, so $s$ can be far from $t$: fifty evenly spaced steps from 1000 down to 1
     (`.ddim(steps: 50)`) cost fifty network passes. The same model, no retraining. And because the map
     from $x_T$ to the image is deterministic, the same noise always gives the same image — here, the
     noise of the DDPM grid above, so the two grids can be compared picture by picture: DDPM added
     fresh noise 999 times on the way, so its images differ; DDIM's are what that starting noise
     "means" to the model.
     */
    let ddimStart = Date()
    let ddimSamples = average.withAveragedWeights {
        diffusion.sample(from: startNoise, sampler: .ddim(steps: 50), using: &rng, predictor: predictor)
    }
    let ddimSeconds = Date().timeIntervalSince(ddimStart)
    try notebook.figure(
        "ddim-samples", Bitmap(grid: ddimSamples, range: .minusOneToOne, columns: 8, scale: 2),
        caption: "The same starting noise, DDIM with 50 steps "
            + "(\(String(format: "%.1f", ddimSeconds)) s)")
    notebook.show("\(gridCount) images: DDPM-1000 took \(String(format: "%.1f", ddpmSeconds)) s, "
        + "DDIM-50 \(String(format: "%.1f", ddimSeconds)) s")
    notebook.record(metric: "DDIM-50 seconds for \(gridCount) images", ddimSeconds)

    /*:
     ## 4.8 · Quality against steps and time

     FID-FMNIST (chapter 2) of the same number of samples from each sampler, with the real-data floor
     at that count. Fewer steps are cheaper, but each DDIM step must bridge a larger gap, and its
     straight-line jump is only an approximation of the curved path — on Gaussian data, where the
     ideal network is known (a spread of 0.2), DDIM with 50 steps draws samples with 12 % too little spread (a test in
     `DiffusionTests` checks exactly that). A network trained for minutes also errs a little in every
     prediction; DDPM's fresh noise at every step washes such errors out, while DDIM's deterministic
     path carries them along to the end. DDPM's thousand passes per image are too many to score
     thousands of samples in the default run, so it is scored on its grid of 64, beside DDIM-50 from
     the same noise and the floor at 64 samples: FID-FMNIST falls as the sample count grows, so only
     scores at equal counts can be compared.
     */
    let evaluator = try Evaluator.standard()
    let scoredCount = options.choose(quick: 32, standard: 300, full: 2000)
    let floorScore = try evaluator.floor(sampleCount: scoredCount, seed: options.seed)
    let scoringNoise = Tensor.randomNormal([scoredCount, 1, 28, 28], using: &rng)

    /// Draws `scoringNoise`'s images with `sampler` in batches, then scores them;
    /// returns the score and seconds.
    func scoredSamples(_ sampler: GaussianDiffusion.Sampler, labels: [Int]? = nil, guidance: Double = 0)
                       throws -> (score: SampleScore, seconds: Double, images: Tensor) {
        let batch = 250
        let passes = sampler.networkPasses(in: diffusion.schedule)
        let guidanceText = labels == nil ? "" : ", w = \(guidance)"
        let progress = notebook.progress("\(sampler)\(guidanceText), \(scoredCount) images",
                                         total: scoredCount * passes)
        let start = Date()
        let guided = GaussianDiffusion.guided(predictor, scale: guidance, nullLabel: noClass)
        var batches: [Tensor] = []
        for first in stride(from: 0, to: scoredCount, by: batch) {
            let range = first..<min(scoredCount, first + batch)
            batches.append(average.withAveragedWeights {
                diffusion.sample(from: scoringNoise.slice(range, alongAxis: 0), sampler: sampler,
                                 labels: labels.map { Array($0[range]) },
                                 using: &rng, predictor: guided) { _ in progress.advance(range.count) }
            })
        }
        let images = Tensor.concatenate(batches, alongAxis: 0)
        let seconds = Date().timeIntervalSince(start)
        progress.finish()
        return (try evaluator.score(images), seconds, images)
    }

    var samplerRows: [[String]] = []
    var samplerPoints: [(x: Double, y: Double)] = []
    let samplers = options.choose(
        quick: [GaussianDiffusion.Sampler.ddim(steps: 50)],
        standard: [.ddim(steps: 10), .ddim(steps: 20), .ddim(steps: 50), .ddim(steps: 100)],
        full: [.ddim(steps: 10), .ddim(steps: 20), .ddim(steps: 50), .ddim(steps: 100),
               .ddim(steps: 250)])
    for sampler in samplers {
        let result = try scoredSamples(sampler)
        let passes = sampler.networkPasses(in: diffusion.schedule)
        samplerRows.append([sampler.description, "\(passes)", "\(scoredCount)",
                            result.score.formattedFID,
                            result.score.coverage.formattedCount,
                            String(format: "%.1f", result.seconds * 64 / Double(scoredCount))])
        samplerPoints.append((Double(passes), result.score.fid))
        notebook.record(metric: "\(sampler) FID-FMNIST", result.score.fid)
    }
    let gridFloor = try evaluator.floor(sampleCount: gridCount, seed: options.seed)
    let ddpmScore = try evaluator.score(ddpmSamples), ddimGridScore = try evaluator.score(ddimSamples)
    notebook.record(metric: "DDPM FID-FMNIST of the grid", ddpmScore.fid)
    samplerRows += [
        ["real training images (floor)", "–", "\(scoredCount)",
         floorScore.formattedFID, floorScore.coverage.formattedCount, "–"],
        ["DDPM (the grid above)", "\(T)", "\(gridCount)",
         ddpmScore.formattedFID, ddpmScore.coverage.formattedCount,
         String(format: "%.1f", ddpmSeconds * 64 / Double(gridCount))],
        ["DDIM-50 (the grid above, same noise)", "50", "\(gridCount)",
         ddimGridScore.formattedFID, ddimGridScore.coverage.formattedCount,
         String(format: "%.1f", ddimSeconds * 64 / Double(gridCount))],
        ["real training images (floor)", "–", "\(gridCount)",
         gridFloor.formattedFID, gridFloor.coverage.formattedCount, "–"],
    ]
    notebook.table(["sampler", "network passes", "samples", "FID-FMNIST", "classes",
                    "seconds per 64 images"], samplerRows)
    let gridPoints = [(x: 50.0, y: ddimGridScore.fid), (x: Double(T), y: ddpmScore.fid)]
    try notebook.figure("fid-vs-steps", svg: LineChart(
        title: "Sample quality against sampling steps", xLabel: "network passes per image (log scale)",
        yLabel: "FID-FMNIST", logX: true, series: [
            PlotSeries(name: "DDIM, \(scoredCount) samples", points: samplerPoints),
            PlotSeries(name: "DDIM-50 and DDPM-1000, \(gridCount) samples (the grids)",
                       points: gridPoints),
        ]).svg(),
        caption: "FID-FMNIST against the number of steps; scores of different sample counts "
            + "are not comparable")

    /*:
     ## 4.9 · Asking for a class: classifier-free guidance

     Because a label was given during training (and dropped one time in five), the network knows two
     predictions: $\epsilon_\theta(x_t, t, y)$ for class $y$ and $\epsilon_\theta(x_t, t, \varnothing)$ for no
     class. Ho and Salimans' *classifier-free guidance* samples with an extrapolation of the two,

     $$\tilde\epsilon = (1 + w)\thinspace \epsilon_\theta(x_t, t, y) - w\thinspace \epsilon_\theta(x_t, t, \varnothing).$$

     Since $\epsilon$-prediction is a scaled score, $-\epsilon_\theta/\sqrt{1-\bar\alpha_t} \approx \nabla\log p(x_t)$, this is
     the score of $p(x_t \mid y)\thinspace p(y \mid x_t)^{w}$: the class's own density, sharpened toward images an
     implicit classifier is sure about. $w = 0$ is the plain conditional model; larger $w$ gives more
     typical, less varied images. Each step costs two passes (one doubled batch).

     One row per class, with the same noise in every row, DDIM-50, $w = 2$:
     */
    let rowNoise = Tensor.randomNormal([10, 1, 28, 28], using: &rng)
    let rowLabels = (0..<classCount).flatMap { [Int](repeating: $0, count: 10) }
    let classNoise = Tensor.concatenate([Tensor](repeating: rowNoise, count: classCount), alongAxis: 0)
    let classGrid = average.withAveragedWeights {
        diffusion.sample(from: classNoise, sampler: .ddim(steps: 50), labels: rowLabels, using: &rng,
                         predictor: GaussianDiffusion.guided(predictor, scale: 2, nullLabel: noClass))
    }
    try notebook.figure(
        "classes",
        Bitmap(grid: classGrid, range: .minusOneToOne, columns: 10, scale: 2,
               rowLabels: FashionMNIST.classNames),
        caption: "One row per requested class (DDIM-50, guidance w = 2)")

    /*:
     The sweep over $w$: FID-FMNIST of samples with classes in equal numbers, and how often the
     chapter 2 classifier agrees with the class we asked for.
     */
    let sweepLabels = (0..<scoredCount).map { $0 % classCount }
    var guidanceRows: [[String]] = []
    var guidancePictures: [Tensor] = []
    for w in options.choose(quick: [2.0], standard: [0.0, 1, 3], full: [0.0, 0.5, 1, 2, 4, 8]) {
        let result = try scoredSamples(.ddim(steps: 50), labels: sweepLabels, guidance: w)
        let agreement = try evaluator.labelAgreement(result.images, labels: sweepLabels)
        guidanceRows.append([String(w), result.score.formattedFID,
                             String(format: "%.0f%%", 100 * agreement),
                             result.score.coverage.formattedEvenness])
        guidancePictures.append(result.images.slice(0..<10, alongAxis: 0))
        notebook.record(metric: "guidance \(w) FID-FMNIST", result.score.fid)
        notebook.record(metric: "guidance \(w) label agreement", agreement)
    }
    notebook.table(["guidance w", "FID-FMNIST (\(scoredCount) samples)",
                    "classifier agrees with the label", "class evenness"], guidanceRows)
    let guidanceGrid = Tensor.concatenate(guidancePictures, alongAxis: 0)
    try notebook.figure(
        "guidance-sweep", Bitmap(grid: guidanceGrid, range: .minusOneToOne, columns: 10, scale: 2),
        caption: "The same noise and classes 0 … 9 at each guidance scale, one row per w")

    /*:
     ## 4.10 · The likelihood bound in bits per dimension

     The same bound that justified the loss can be evaluated, as in the DDPM paper, to compare
     likelihoods with other models. For 8-bit images it has three parts:

     $$-\log p_\theta(x_0) \le \underbrace{\mathrm{KL}\big(q(x_T \mid x_0)\thinspace \Vert\thinspace \mathcal N(0, I)\big)}_{\text{prior}} +
     \sum_{t=2}^{T} \underbrace{\mathrm{KL}\big(q(x_{t-1} \mid x_t, x_0)\thinspace \Vert\thinspace p_\theta(x_{t-1} \mid x_t)\big)}_{\text{step } t}
     \ \underbrace{-\ \log p_\theta(x_0 \mid x_1)}_{\text{decoder}} .$$

     The step terms are the weighted noise errors derived above; the decoder term gives each pixel the
     probability mass its Gaussian puts on the pixel's bin of width $2/255$ (the outermost bins reach
     to $\pm\infty$), so the bound is on a probability of discrete images and cannot go negative. Summing all
     999 step terms costs 999 network passes per image, so we estimate the sum: the steps are cut into
     equal blocks, one step is drawn at random per block and image, and its term is weighted by the
     block's length. That estimate is unbiased, and with one block per step it is the exact sum.
     Divided by $784 \ln 2$, nats per image become **bits per dimension**.

     The bound is for the averaged weights and the sampler *without* clipping $\hat x_0$.
     */
    let boundImages = options.choose(quick: 32, standard: 500, full: 2000)
    let strata = options.choose(quick: 10, standard: 50, full: T - 1)
    let boundLoader = DataLoader(test.prefix(boundImages), batchSize: 250, shuffle: false)
    var boundParts = (prior: 0.0, diffusion: 0.0, decoder: 0.0)
    var stepCost = [Double](repeating: 0, count: strata), stepMidpoints: [Int] = []
    let boundProgress = notebook.progress("bound on \(boundImages) test images, \(strata) strata",
                                          total: boundLoader.batches(epoch: 0).count)
    for batch in boundLoader.batches(epoch: 0) {
        let bound = average.withAveragedWeights {
            diffusion.variationalBound(batch.images, strata: strata, using: &rng, predictor: predictor)
        }
        let share = Double(batch.count) / Double(boundImages)
        boundParts.prior += bound.prior * share
        boundParts.diffusion += bound.diffusion * share
        boundParts.decoder += bound.decoder * share
        for (index, term) in bound.stepTerms.enumerated() { stepCost[index] += term.nats * share }
        stepMidpoints = bound.stepTerms.map(\.step)
        boundProgress.advance()
    }
    boundProgress.finish()
    let boundTotal = boundParts.prior + boundParts.diffusion + boundParts.decoder
    let bitsPerDimension = { (nats: Double) in nats / (784 * Foundation.log(2.0)) }
    notebook.table(["term", "nats per image", "bits per dimension"], [
        ["prior KL(q(x_T | x₀) ‖ N(0, I))", String(format: "%.2f", boundParts.prior),
         String(format: "%.4f", bitsPerDimension(boundParts.prior))],
        ["steps 2 … 1000 (estimated, \(strata) strata)", String(format: "%.1f", boundParts.diffusion),
         String(format: "%.3f", bitsPerDimension(boundParts.diffusion))],
        ["decoder −log p(x₀ | x₁)", String(format: "%.1f", boundParts.decoder),
         String(format: "%.3f", bitsPerDimension(boundParts.decoder))],
        ["total, first \(boundImages) test images", String(format: "%.1f", boundTotal),
         String(format: "%.3f", bitsPerDimension(boundTotal))],
    ])
    notebook.record(metric: "bits per dimension", bitsPerDimension(boundTotal))
    try notebook.figure("bound-per-step", svg: LineChart(
        title: "Where the bound is spent: nats per image for one step t", xLabel: "step t",
        yLabel: "nats", logY: true, series: [
        PlotSeries(name: "KL term of step t (test average)", x: stepMidpoints.map { Double($0 + 1) },
                   y: stepCost),
    ]).svg(), caption: "The step terms of the bound: the nearly clean steps cost the most")

    /*:
     To set this beside the VAE of chapter 3: its bound was a *density* of continuous pixels (in
     nats, and it could be negative). A density $p$ that is smooth at the scale of a pixel's bin puts
     about $p \cdot (2/255)$ of probability in the bin, so a continuous bound converts to a discrete
     one by adding $\log_2(255/2) \approx 7.0$ bits per dimension. The VAE's −0.1 bits per (padded)
     pixel becomes about 6.9 bits per dimension — its fixed-spread Gaussian decoder cannot put
     its mass on the exact pixel values, while the diffusion model's decoder at $\beta_1 = 10^{-4}$ can.

     ## 4.11 · Summary

     A diffusion model is trained by a regression — predict the noise in a noisy image — and samples
     by repeating a small, well-understood correction many times. It needs no adversary, it has a
     likelihood bound, and the same network can be sampled fast (DDIM) or slowly (DDPM), with or
     without a class, and with a guidance knob that trades variety for fidelity. Its price is the
     number of network passes per image; the next chapter trains the same network on straight paths
     from data to noise, which a few steps can follow, and chapter 6 sets the families side by side.
     */
    try notebook.finish()
} catch {
    Notebook.exit(dueTo: error)
}
