/*:
 # Chapter 1 · Concepts: what a generative model learns

 An image generator is a machine for drawing new samples from a distribution it has only seen
 examples of. Give it sixty thousand photographs of clothes and it should produce a sixty-thousand-
 and-first that looks as if it came from the same shop. This chapter lays out the ideas the rest
 of the book builds on (sections 1 and 2 of the source): what "learning a distribution" means,
 how the three families of models — adversarial networks, variational autoencoders and diffusion
 models — each go about it, and the one tool all of them are trained with, gradient descent
 through automatic differentiation. Everything here runs on two-dimensional data, so that every
 distribution can be seen at a glance in a scatter plot.

 Run it with `swift run -c release Concepts`, or `--quick` for a few seconds; before each of its
 three trainings it times a few steps and says how long the rest will take on your machine.
 Every chapter runs its code inside one `do` block: if something it needs is missing — the
 dataset, a folder it can write to, a checkpoint that fits — the run stops with the reason, not a
 crash report.
 */
import Datasets
import Foundation
import ImageIO
import NeuralNetworks
import Notebook

do {
    let options = RunOptions.parseOrExit()
    let notebook = try Notebook(
        chapter: "01-Concepts", title: "Chapter 1 · Concepts", options: options,
        trainings: [("GAN", 0.3), ("VAE", 0.3), ("Diffusion", 0.4)])
    var rng = RandomGenerator(seed: options.seed)

    /*:
     ## 1.1 · Learning a distribution

     Write $p_{\text{data}}(x)$ for the unknown distribution the training images come from. A
     generative model is a family of distributions $p_\theta(x)$ with parameters $\theta$, fitted so
     that $p_\theta$ is close to $p_{\text{data}}$, together with a way to *sample* from $p_\theta$.
     The three families differ in what they make explicit:

     - a **GAN** never writes $p_\theta(x)$ down. It keeps a sampler $x = G_\theta(z)$,
       $z \sim \mathcal N(0, I)$, and a second network, the discriminator, that learns to tell real from
       generated samples; the generator is trained to fool it (§2.1 and §3.1 of the source).
     - a **VAE** introduces a latent variable: $p_\theta(x) = \int p_\theta(x \mid z)\thinspace p(z)\thinspace dz$.
       The integral is intractable, so an encoder $q_\phi(z \mid x)$ guesses which $z$ could have made
       $x$, and both are trained on a lower bound of $\log p_\theta(x)$ (§2.2, §3.2).
     - a **diffusion model** destroys data step by step with Gaussian noise,
       $x_0 \to x_1 \to \dots \to x_T \approx \mathcal N(0, I)$, and learns to undo one step at a time,
       $p_\theta(x_{t-1} \mid x_t)$; sampling runs the learned reversal from pure noise (§2.3, §3.3).

     Our data for this chapter is the "two moons" distribution: two interleaved half circles with a
     little noise. It is easy to draw and hard to fake — a model that only learns the mean and the
     spread produces a blob, not two crescents.
     */
    let sampleCount = options.choose(quick: 512, standard: 2000, full: 4000)
    let data = ToyDistribution.twoMoons.sample(sampleCount, using: &rng)          // [N, 2]
    let dataMean = format(data.mean(alongAxes: [0]).doubles)
    let dataStd = format(data.variance(alongAxes: [0]).sqrt().doubles)
    notebook.show("two moons: \(data.shape[0]) points, mean \(dataMean), std \(dataStd)")
    let dataPoints = PointSet(name: "data", tensor: data, color: "#444")
    let dataPlot = ScatterPlot(title: "Two moons", xLabel: "x₁", yLabel: "x₂", sets: [dataPoints],
                               equalAspect: true)
    try notebook.figure("data", svg: dataPlot.svg(), caption: "The training data")

    /*:
     ## 1.2 · The one tool: gradients by automatic differentiation

     All three families are trained the same way: write down a loss $L(\theta)$, compute its gradient
     $\nabla_\theta L$, and take a small step against it. The gradient is computed by *reverse-mode
     automatic differentiation*. Every operation on a tensor that needs a gradient is recorded on a
     tape, together with a rule for passing a gradient backwards through it; `backward()` walks the
     tape from the loss back to the parameters, applying the chain rule once per operation.

     Here is a tiny expression, $y = \tanh(w x + b)\cdot x$, its tape, and its gradients:
     */
    let x = Tensor([2.0], shape: [1], dtype: .float64)
    let w = Tensor([-0.5], shape: [1], dtype: .float64, requiresGrad: true)
    let b = Tensor([0.25], shape: [1], dtype: .float64, requiresGrad: true)
    let y = ((w * x + b).tanh() * x).sum()
    let tapeEntries = y.tape().compactMap { tensor in
        tensor.gradientFunction.map { "\($0.name) → \(tensor.shape)" }
    }
    notebook.show("tape: " + tapeEntries.joined(separator: ",  "))
    y.backward()
    /*:
     By hand: with $u = wx + b$, $\partial y/\partial w = x^2 (1 - \tanh^2 u)$ and
     $\partial y/\partial b = x (1 - \tanh^2 u)$. The tape gives the same numbers:
     */
    let u = -0.5 * 2 + 0.25
    notebook.show("autograd: dy/dw = \(format(w.grad!.doubles)), dy/db = \(format(b.grad!.doubles))")
    let dydwByHand = 4 * (1 - Foundation.tanh(u) * Foundation.tanh(u))
    let dydbByHand = 2 * (1 - Foundation.tanh(u) * Foundation.tanh(u))
    notebook.show("by hand:  dy/dw = \(format([dydwByHand])), dy/db = \(format([dydbByHand]))")
    /*:
     A third opinion needs no calculus at all: nudge each input by $\pm\epsilon$ and watch the output,
     $\partial y/\partial w \approx (y(w+\epsilon) - y(w-\epsilon)) / 2\epsilon$. This *central
     difference* is how every layer and loss in the library is tested, in double precision; the same
     check is one call away for anything you build.
     */
    let check = gradientCheck([x, w, b]) { inputs in
        ((inputs[1] * inputs[0] + inputs[2]).tanh() * inputs[0]).sum()
    }
    notebook.show(check.description)

    /*:
     ## 1.3 · A GAN in two dimensions

     The generator maps noise $z \sim \mathcal N(0, I_2)$ to points; the discriminator $D$ outputs a
     logit, the log-odds that its input is real. They play the source's minimax game

     $$\min_G \max_D \thickspace \mathbb E_{x \sim p_{\text{data}}}[\log D(x)] + \mathbb E_{z}[\log(1 - D(G(z)))].$$

     Each step first improves $D$ on a batch of real and a batch of generated points (binary
     cross-entropy with labels 1 and 0), then improves $G$. For $G$ we use the *non-saturating* loss
     $-\log D(G(z))$ rather than $\log(1 - D(G(z)))$: both are minimised at the same place, but early
     in training, when $D$ easily rejects every fake, the latter's gradient vanishes while the former's
     is largest. Chapter 2 returns to this in detail.
     */
    let steps = options.choose(quick: 400, standard: 2500, full: 6000)
    let batchSize = 256
    let hidden = 128

    /// A multilayer perceptron: Linear → activation → … → Linear.
    func perceptron(_ sizes: [Int], activation: () -> any Layer,
                    using rng: inout RandomGenerator) -> Sequential {
        var layers: [any Layer] = []
        for (index, (input, output)) in zip(sizes, sizes.dropFirst()).enumerated() {
            layers.append(Linear(inputCount: input, outputCount: output, using: &rng))
            if index < sizes.count - 2 { layers.append(activation()) }
        }
        return Sequential(layers)
    }

    /// A random batch of rows of `data`.
    func batch(of data: Tensor, size: Int, using rng: inout RandomGenerator) -> Tensor {
        data.gatheringRows((0..<size).map { _ in rng.nextInt(below: data.shape[0]) })
    }

    let generator = perceptron([2, hidden, hidden, 2], activation: { ReLU() }, using: &rng)
    let discriminator = perceptron(
        [2, hidden, hidden, 1], activation: { LeakyReLU(negativeSlope: 0.2) }, using: &rng)
    let generatorOptimizer = Adam(generator.parameters, learningRate: 1e-3, betas: (0.5, 0.999))
    let discriminatorOptimizer = Adam(discriminator.parameters, learningRate: 1e-3, betas: (0.5, 0.999))
    let ones = Tensor.ones([batchSize, 1]), zeros = Tensor.zeros([batchSize, 1])
    var ganLosses: [String: [Double]] = [:]

    let ganCheckpoint = Checkpoint(
        models: [("generator", generator), ("discriminator", discriminator)],
        optimizers: [("generator", generatorOptimizer), ("discriminator", discriminatorOptimizer)])
    try notebook.train("GAN", ganCheckpoint, file: "gan.safetensors",
                       plan: TrainingPlan(epochs: 1, stepsPerEpoch: steps), label: { _ in "GAN" },
                       generator: &rng, series: &ganLosses) { _, rng, losses in
        let real = batch(of: data, size: batchSize, using: &rng)                       // [B, 2]
        let fake = generator(Tensor.randomNormal([batchSize, 2], using: &rng))          // [B, 2]
        // The discriminator's step: real points are labelled 1, generated ones 0.
        let discriminatorLoss = binaryCrossEntropyWithLogits(discriminator(real), ones)
            + binaryCrossEntropyWithLogits(discriminator(fake.detached()), zeros)
        discriminatorOptimizer.zeroGrad()
        discriminatorLoss.backward()
        discriminatorOptimizer.step()
        // The generator's step: make the (just updated) discriminator call its points real.
        let generatorLoss = binaryCrossEntropyWithLogits(discriminator(fake), ones)
        generatorOptimizer.zeroGrad()
        generatorLoss.backward()
        generatorOptimizer.step()
        losses["discriminator", default: []].append(discriminatorLoss.item)
        losses["generator", default: []].append(generatorLoss.item)
        return [("D loss", discriminatorLoss.item), ("G loss", generatorLoss.item)]
    }
    let ganSamples = withoutGradients { generator(Tensor.randomNormal([sampleCount, 2], using: &rng)) }

    /*:
     ## 1.4 · A VAE in two dimensions

     The encoder maps a point $x$ to the mean $\mu$ and log-variance $\log\sigma^2$ of a Gaussian
     $q_\phi(z \mid x)$ over a 2-D latent. The decoder maps $z$ to the mean $\hat x$ of a Gaussian
     $p_\theta(x \mid z) = \mathcal N(\hat x, s^2 I)$ with a fixed spread $s$. Training maximises the
     evidence lower bound, i.e. minimises

     $$L = \frac{1}{2 s^2}\lVert x - \hat x\rVert^2 + \mathrm{KL}\big(q_\phi(z\mid x) \thinspace \Vert\thinspace \mathcal N(0, I)\big),
     \qquad \mathrm{KL} = -\tfrac12 \sum_j \big(1 + \log\sigma_j^2 - \mu_j^2 - \sigma_j^2\big),$$

     which is the source's $L_{\text{recon}} + \beta L_{\text{KL}}$ with $\beta = 2s^2$ (up to a
     constant). To let gradients pass through the sampling of $z$ we write it as
     $z = \mu + \sigma \odot \epsilon$ with $\epsilon \sim \mathcal N(0, I)$: the *reparameterisation
     trick*. New points come from decoding $z \sim \mathcal N(0, I)$; we plot the decoder's mean
     $\hat x$ and leave out the observation noise of spread $s$.
     */
    let decoderSpread = 0.1
    let encoderBody = perceptron([2, hidden, hidden], activation: { ReLU() }, using: &rng)
    let encoderMean = Linear(inputCount: hidden, outputCount: 2, using: &rng)
    let encoderLogVariance = Linear(inputCount: hidden, outputCount: 2, using: &rng)
    let decoder = perceptron([2, hidden, hidden, 2], activation: { ReLU() }, using: &rng)
    let vaeParameters = encoderBody.parameters + encoderMean.parameters
        + encoderLogVariance.parameters + decoder.parameters
    let vaeOptimizer = Adam(vaeParameters, learningRate: 1e-3)
    var vaeLosses: [String: [Double]] = [:]

    let vaeCheckpoint = Checkpoint(
        models: [("encoder.body", encoderBody), ("encoder.mean", encoderMean),
                 ("encoder.log_variance", encoderLogVariance), ("decoder", decoder)],
        optimizers: [("vae", vaeOptimizer)])
    try notebook.train("VAE", vaeCheckpoint, file: "vae.safetensors",
                       plan: TrainingPlan(epochs: 1, stepsPerEpoch: steps), label: { _ in "VAE" },
                       generator: &rng, series: &vaeLosses) { _, rng, losses in
        let x = batch(of: data, size: batchSize, using: &rng)                         // [B, 2]
        let features = encoderBody(x).relu()                                          // [B, hidden]
        let mean = encoderMean(features), logVariance = encoderLogVariance(features)  // [B, 2] each
        let z = mean + (logVariance * 0.5).exp() * Tensor.randomNormal([batchSize, 2], using: &rng)
        let reconstruction = mseLoss(decoder(z), x, reduction: .sum)
            * (1 / (2 * decoderSpread * decoderSpread * Double(batchSize)))
        let kl = gaussianKLDivergence(mean: mean, logVariance: logVariance)
        let loss = reconstruction + kl
        vaeOptimizer.zeroGrad()
        loss.backward()
        vaeOptimizer.step()
        losses["reconstruction", default: []].append(reconstruction.item)
        losses["KL", default: []].append(kl.item)
        return [("reconstruction", reconstruction.item), ("KL", kl.item)]
    }
    let vaeSamples = withoutGradients { decoder(Tensor.randomNormal([sampleCount, 2], using: &rng)) }

    /*:
     ## 1.5 · A diffusion model in two dimensions

     The forward process adds a little Gaussian noise at each of $T$ steps,
     $q(x_t \mid x_{t-1}) = \mathcal N(\sqrt{1-\beta_t}\thinspace x_{t-1}, \beta_t I)$. Composing the steps gives
     a closed form for jumping straight to step $t$: with $\bar\alpha_t = \prod_{s \le t} (1 - \beta_s)$,

     $$x_t = \sqrt{\bar\alpha_t}\thinspace x_0 + \sqrt{1 - \bar\alpha_t}\thinspace \epsilon, \qquad \epsilon \sim \mathcal N(0, I).$$

     A network $\epsilon_\theta(x_t, t)$ learns to predict the noise that was added, with the plain
     loss $\lVert \epsilon - \epsilon_\theta(x_t, t) \rVert^2$ at a random $t$. Sampling starts from
     $x_T \sim \mathcal N(0, I)$ and runs the reverse steps

     $$x_{t-1} = \frac{1}{\sqrt{1-\beta_t}}\Big(x_t - \frac{\beta_t}{\sqrt{1 - \bar\alpha_t}}\thinspace \epsilon_\theta(x_t, t)\Big) + \tilde\beta_t^{1/2}\thinspace z,
     \qquad \tilde\beta_t = \frac{1 - \bar\alpha_{t-1}}{1 - \bar\alpha_t}\thinspace \beta_t,$$

     with fresh $z \sim \mathcal N(0, I)$ at every step but the last. ($\tilde\beta_t$ is the variance of
     the true reverse step when $x_0$ is known; $\beta_t$ itself is the other common choice and gives
     slightly noisier samples.) For points in the plane a hundred steps are plenty; the step $t$
     enters the network as a sinusoidal embedding, a vector of $\sin$ and $\cos$ of $t$ at several
     frequencies.
     */
    let diffusionSteps = 100
    let betas = (0..<diffusionSteps).map {
        1e-4 + (0.1 - 1e-4) * Double($0) / Double(diffusionSteps - 1)
    }
    let alphaBars = betas.reduce(into: [Double]()) { products, beta in
        products.append((products.last ?? 1) * (1 - beta))
    }
    let embeddingSize = 16

    /// sin and cos of t at `embeddingSize / 2` frequencies from 1 down to 1/1000, one row per t.
    func timeEmbedding(_ steps: [Int]) -> Tensor {
        let half = embeddingSize / 2
        let values = steps.flatMap { t in
            let angles = (0..<half).map { Double(t) * Foundation.pow(1000, -Double($0) / Double(half)) }
            return angles.map { Foundation.sin($0) } + angles.map { Foundation.cos($0) }
        }
        return Tensor(values, shape: [steps.count, embeddingSize], dtype: .float32)
    }

    /// A column of per-row constants, [B, 1].
    func column(_ values: [Double]) -> Tensor {
        Tensor(values, shape: [values.count, 1], dtype: .float32)
    }

    let denoiser = perceptron(
        [2 + embeddingSize, hidden, hidden, hidden, 2], activation: { SiLU() }, using: &rng)
    let diffusionOptimizer = Adam(denoiser.parameters, learningRate: 1e-3)
    let diffusionTrainingSteps = steps * 4
    var diffusionLosses: [String: [Double]] = [:]

    let diffusionCheckpoint = Checkpoint(
        models: [("denoiser", denoiser)], optimizers: [("denoiser", diffusionOptimizer)])
    try notebook.train("Diffusion", diffusionCheckpoint, file: "diffusion.safetensors",
                       plan: TrainingPlan(epochs: 1, stepsPerEpoch: diffusionTrainingSteps),
                       label: { _ in "Diffusion" }, generator: &rng,
                       series: &diffusionLosses) { _, rng, losses in
        let x0 = batch(of: data, size: batchSize, using: &rng)                // [B, 2]
        let t = (0..<batchSize).map { _ in rng.nextInt(below: diffusionSteps) }
        let noise = Tensor.randomNormal([batchSize, 2], using: &rng)          // ε, [B, 2]
        let xt = column(t.map { alphaBars[$0].squareRoot() }) * x0
            + column(t.map { (1 - alphaBars[$0]).squareRoot() }) * noise
        // ε̂, [B, 2]
        let predicted = denoiser(Tensor.concatenate([xt, timeEmbedding(t)], alongAxis: 1))
        let loss = mseLoss(predicted, noise)
        diffusionOptimizer.zeroGrad()
        loss.backward()
        diffusionOptimizer.step()
        losses["noise MSE", default: []].append(loss.item)
        return [("loss", loss.item)]
    }

    let diffusionSamples = withoutGradients {
        var xt = Tensor.randomNormal([sampleCount, 2], using: &rng)                         // x_T
        for t in stride(from: diffusionSteps - 1, through: 0, by: -1) {
            let embedding = timeEmbedding([Int](repeating: t, count: sampleCount))
            let predicted = denoiser(Tensor.concatenate([xt, embedding], alongAxis: 1))
            xt = (xt - predicted * (betas[t] / (1 - alphaBars[t]).squareRoot()))
                * (1 / (1 - betas[t]).squareRoot())
            if t > 0 {
                let variance = (1 - alphaBars[t - 1]) / (1 - alphaBars[t]) * betas[t]   // β̃_t
                xt = xt + Tensor.randomNormal([sampleCount, 2], using: &rng) * variance.squareRoot()
            }
        }
        return xt
    }

    /*:
     ## 1.6 · Side by side

     A scatter plot is the honest judge in two dimensions. For numbers, we also measure *precision*
     (the share of generated points that land within 0.1 of some real point: are the samples
     realistic?) and *recall* (the share of real points with a generated point within 0.1: is all of
     the data covered?). As a baseline, a single Gaussian with the data's mean and covariance — the best
     a model can do that only knows the first two moments — shows what these numbers mean.
     */
    /// The share of `points` whose nearest neighbour in `reference` is closer than `radius`.
    func coverage(of points: Tensor, by reference: Tensor, radius: Double) -> Double {
        let p = points.doubles, r = reference.doubles
        var hits = 0
        for i in stride(from: 0, to: p.count, by: 2) {
            var nearest = Double.infinity
            for j in stride(from: 0, to: r.count, by: 2) {
                let dx = p[i] - r[j], dy = p[i + 1] - r[j + 1]
                nearest = min(nearest, dx * dx + dy * dy)
            }
            if nearest < radius * radius { hits += 1 }
        }
        return Double(hits) / Double(p.count / 2)
    }

    let centred = data - data.mean(alongAxes: [0], keepingDimensions: true)
    let covariance = centred.transposed().matmul(centred) * (1 / Double(sampleCount - 1))  // [2, 2]
    let c = covariance.doubles
    let choleskyFactor = Tensor(
        [c[0].squareRoot(), c[1] / c[0].squareRoot(), 0, (c[3] - c[1] * c[1] / c[0]).squareRoot()],
        shape: [2, 2], dtype: .float32)  // Lᵀ, with L Lᵀ = Σ
    let gaussianSamples = Tensor.randomNormal([sampleCount, 2], using: &rng).matmul(choleskyFactor)
        + data.mean(alongAxes: [0])
    let heldOut = ToyDistribution.twoMoons.sample(sampleCount, using: &rng)

    var rows: [[String]] = []
    for (name, samples) in [("Gaussian fit", gaussianSamples), ("GAN", ganSamples), ("VAE", vaeSamples),
                            ("Diffusion", diffusionSamples), ("fresh real data", heldOut)] {
        let precision = coverage(of: samples, by: data, radius: 0.1)
        let recall = coverage(of: data, by: samples, radius: 0.1)
        rows.append([name, format(samples.mean(alongAxes: [0]).doubles),
                     format(samples.variance(alongAxes: [0]).sqrt().doubles),
                     String(format: "%.2f", precision), String(format: "%.2f", recall)])
        notebook.record(metric: "\(name) precision", precision)
        notebook.record(metric: "\(name) recall", recall)
        let meanError = (samples.mean(alongAxes: [0]) - data.mean(alongAxes: [0])).abs().max().item
        let sampleSpread = samples.variance(alongAxes: [0]).sqrt()
        let spreadError = (sampleSpread / data.variance(alongAxes: [0]).sqrt() - 1).abs().max().item
        notebook.record(metric: "\(name) mean error", meanError)
        notebook.record(metric: "\(name) relative spread error", spreadError)
    }
    /// The average of the first and of the last tenth of a loss curve.
    func startAndEnd(_ losses: [Double]) -> (start: Double, end: Double) {
        let tenth = max(1, losses.count / 10)
        return (losses.prefix(tenth).reduce(0, +) / Double(tenth),
                losses.suffix(tenth).reduce(0, +) / Double(tenth))
    }
    let vaeTotalLosses = zip(vaeLosses["reconstruction"] ?? [], vaeLosses["KL"] ?? []).map(+)
    for (name, losses) in [("VAE loss", vaeTotalLosses),
                           ("Diffusion loss", diffusionLosses["noise MSE"] ?? []),
                           ("GAN generator loss", ganLosses["generator"] ?? [])] {
        let (start, end) = startAndEnd(losses)
        notebook.record(metric: "\(name) start", start)
        notebook.record(metric: "\(name) end", end)
    }
    notebook.table(["samples", "mean", "std", "precision", "recall"], rows)

    let palette = (data: "#bbbbbb", samples: "#d62728")
    let panels = [("gan", "GAN", ganSamples), ("vae", "VAE", vaeSamples),
                  ("diffusion", "Diffusion", diffusionSamples)]
    for (file, title, samples) in panels {
        let plot = ScatterPlot(
            title: "\(title): samples (red) over the data (grey)", xLabel: "x₁", yLabel: "x₂",
            sets: [PointSet(name: "data", tensor: data, color: palette.data),
                   PointSet(name: "\(title) samples", tensor: samples, color: palette.samples)],
            equalAspect: true)
        try notebook.figure("\(file)-samples", svg: plot.svg(),
                            caption: "\(title) samples against the data")
    }

    let window = max(1, steps / 100)
    /// The smoothed curve of the losses recorded under `name`, named the same.
    func series(_ name: String, of losses: [String: [Double]]) -> PlotSeries {
        PlotSeries(name: name, values: losses[name] ?? [], averagingWindow: window)
    }
    let curves: [(file: String, title: String, series: [PlotSeries])] = [
        ("gan-losses", "GAN", [series("discriminator", of: ganLosses),
                               series("generator", of: ganLosses)]),
        ("vae-losses", "VAE", [series("reconstruction", of: vaeLosses), series("KL", of: vaeLosses)]),
        ("diffusion-losses", "Diffusion", [series("noise MSE", of: diffusionLosses)]),
    ]
    for curve in curves {
        let chart = LineChart(title: "\(curve.title) losses", xLabel: "step", yLabel: "loss",
                              logY: curve.title == "VAE", series: curve.series)
        try notebook.figure(curve.file, svg: chart.svg(), caption: "\(curve.title) loss curves")
    }

    /*:
     ## 1.7 · How the three relate

     The GAN's losses do not fall steadily — they are two players' scores in a game, and a steady
     pair means the two are balanced, not that training is done; its samples are sharp but it can drop
     parts of the data (watch recall). The VAE optimises a bound on the likelihood, so its loss falls
     smoothly; the price is that every point in the latent space must decode to something plausible,
     which blurs the thin parts of the moons together. The diffusion model trains with the simplest
     loss of all, a regression onto the noise, and samples by many small denoising steps: slow to
     sample, but the closest match to the data.

     | | learns | samples by | trained on |
     | --- | --- | --- | --- |
     | GAN | a sampler $G(z)$ | one network pass | a game against a discriminator |
     | VAE | $p_\theta(x \mid z)$ and $q_\phi(z \mid x)$ | one decoder pass | a lower bound on $\log p_\theta(x)$ |
     | Diffusion | the noise in $x_t$ | $T$ network passes | regression onto the added noise |

     The next three chapters build each family at full size, on Fashion-MNIST images.
     */
    try notebook.finish()

    /// Numbers in a short, readable form: `[0.500, -0.250]`.
    func format(_ values: [Double]) -> String {
        "[" + values.map { String(format: "%.3f", $0) }.joined(separator: ", ") + "]"
    }
} catch {
    Notebook.exit(dueTo: error)
}
