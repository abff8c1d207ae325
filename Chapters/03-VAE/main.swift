/*:
 # Chapter 3 · Variational autoencoders

 A variational autoencoder (sections 2.2, 3.2 and 4.2 of the source) explains every image by a
 few hidden causes. An **encoder** reads an image and proposes where in a small latent space it
 came from; a **decoder** turns a point of that space back into an image. Unlike the GAN of the
 last chapter, the VAE is trained on a bound on the likelihood of the data — so it comes with a
 number that says how well it models the images, and a latent space we can walk through.

 Run it with `swift run -c release VAE` (before each training it says how long it will take on
 your machine; `--minutes M` gives the chapter's six trainings M minutes in all), `--quick` for a
 smoke test, or `--full` to train longer.
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
        chapter: "03-VAE", title: "Chapter 3 · Variational autoencoders", options: options,
        trainings: [("VAE", 0.5), ("2-D VAE", 0.15),
                    ("β' = 0.25", 0.05), ("β' = 1", 0.05), ("β' = 4", 0.05),
                    ("conditional VAE", 0.2)])
    var rng = RandomGenerator(seed: options.seed)

    let training = try FashionMNIST.load(
        .train, padding: 2, limit: options.choose(quick: 2048, standard: nil, full: nil))
    let test = try FashionMNIST.load(
        .test, padding: 2, limit: options.choose(quick: 512, standard: nil, full: nil))
    notebook.show("\(training.count) training and \(test.count) test images of "
        + "\(training.imageShape), pixels in [-1, 1]")

    /*:
     ## 3.1 · The model and its bound

     The model (section 3.2 of the source) has a latent vector $z \in \mathbb R^{d}$ with prior $p(z) = \mathcal N(0, I)$ and a
     decoder $p_\theta(x \mid z)$. Its likelihood $p_\theta(x) = \int p_\theta(x \mid z) p(z)\thinspace dz$ has no
     closed form, so we bring in an encoder $q_\phi(z \mid x) = \mathcal N(\mu_\phi(x), \mathrm{diag}\thinspace \sigma^2_\phi(x))$
     and bound it. For any $q$,

     $$\log p_\theta(x) = \underbrace{\mathbb E_{q}[\log p_\theta(x \mid z)] - \mathrm{KL}\big(q_\phi(z \mid x) \thinspace \Vert\thinspace p(z)\big)}_{\text{ELBO}} +
     \mathrm{KL}\big(q_\phi(z \mid x) \thinspace \Vert\thinspace p_\theta(z \mid x)\big),$$

     and the last term is never negative, so the ELBO is a lower bound on $\log p_\theta(x)$, tight
     when the encoder matches the true posterior. Maximising it trains both networks at once.

     **The KL term in closed form.** For one latent dimension, $q = \mathcal N(\mu, \sigma^2)$ and
     $p = \mathcal N(0, 1)$:

     $$\mathrm{KL} = \mathbb E_q[\log q - \log p] = \mathbb E_q\big[-\tfrac12\log \sigma^2 - \tfrac{(z-\mu)^2}{2\sigma^2} + \tfrac{z^2}{2}\big]
     = -\tfrac12 \log\sigma^2 - \tfrac12 + \tfrac12(\mu^2 + \sigma^2),$$

     using $\mathbb E_q[(z-\mu)^2] = \sigma^2$ and $\mathbb E_q[z^2] = \mu^2 + \sigma^2$. Summed over the
     independent dimensions this is the source's $-\tfrac12\sum_j (1 + \log\sigma_j^2 - \mu_j^2 - \sigma_j^2)$.

     **The reconstruction term.** We state the decoder plainly: a Gaussian with mean $\hat x = \mu_\theta(z)$
     and a fixed standard deviation $s = 0.3$ per pixel (pixels live in $[-1, 1]$). Then
     $-\log p_\theta(x \mid z) = \frac{1}{2s^2}\lVert x - \hat x \rVert^2 + \frac{D}{2}\log(2\pi s^2)$, with
     $D = 32 \times 32$ pixels. So the source's loss $L_{\text{recon}} + \beta L_{\text{KL}}$, with
     $L_{\text{recon}} = \lVert x - \hat x \rVert^2$ *summed* over pixels, is the negative ELBO up to a
     constant and a factor exactly when $\beta = 2s^2$. A larger $\beta$ buys a latent space closer to
     the prior (better samples from $\mathcal N(0, I)$) with blurrier reconstructions; a smaller one
     the reverse. (Libraries often average the squared error over pixels instead; that silently
     multiplies $\beta$ by $D$.) Losses below are per image: summed over pixels and latent dimensions,
     averaged over the batch. The choice of $s$ is the choice of $\beta$: with $s = 0.1$ this model
     reconstructs test images almost perfectly, but its codes spread so far from $\mathcal N(0, I)$
     that decoded prior samples are mostly noise-shaped blobs; $s = 0.3$ trades some sharpness for
     samples that look like clothes.

     The expectation over $q$ is estimated with one sample, written $z = \mu + \sigma \odot \epsilon$,
     $\epsilon \sim \mathcal N(0, I)$, so that gradients reach $\mu$ and $\sigma$: the *reparameterisation trick*.
     */
    let spread = 0.3                                            // s
    let pixelCount = Double(32 * 32)                            // D
    let constant = pixelCount / 2 * Foundation.log(2 * Double.pi * spread * spread)

    /// Per-image reconstruction term ‖x − x̂‖² / 2s² and KL, each averaged over the batch.
    func negativeELBOTerms(_ model: VariationalAutoencoder, _ x: Tensor, labels: [Int]? = nil,
                           klWeight: Double = 1, using rng: inout RandomGenerator)
                           -> (reconstruction: Tensor, kl: Tensor, loss: Tensor) {
        let (mean, logVariance) = model.encode(x, labels: labels)  // [B, d] each
        let z = VariationalAutoencoder.reparameterize(mean: mean, logVariance: logVariance, using: &rng)
        let reconstruction = mseLoss(model.decode(z, labels: labels), x, reduction: .sum)
            * (1 / (2 * spread * spread * Double(x.shape[0])))
        let kl = gaussianKLDivergence(mean: mean, logVariance: logVariance)
        return (reconstruction, kl, reconstruction + kl * klWeight)
    }

    /*:
     ## 3.2 · The networks

     The source's encoder (its section 4.2): three 4×4 convolutions with stride 2 (32, 64, 128 channels, ReLU) shrink
     32×32 to 4×4, then two linear heads give $\mu$ and $\log\sigma^2$ of a 32-dimensional latent. The
     decoder mirrors it: a linear layer back to 128×4×4, three transposed convolutions, $\tanh$.
     Predicting $\log\sigma^2$ rather than $\sigma$ keeps the variance positive without a constraint.
     */
    let latentCount = 32
    let model = VariationalAutoencoder(imageChannels: 1, latentCount: latentCount, using: &rng)
    let firstParameters = model.namedParameters().prefix(3).map { "\($0.name) \($0.tensor.shape)" }
    notebook.show("\(model.parameterCount) parameters: "
        + firstParameters.joined(separator: ", ") + ", …")

    /*:
     ## 3.3 · Training

     Adam with learning rate $2.8\cdot10^{-3}$ and batches of 64, a checkpoint after every epoch
     (`--resume` continues from it). Both were chosen for what a few minutes buy: given 3.6 minutes
     on one thread of a 2-core AMD EPYC (Zen 3), beside another training, this pair reached
     FID-FMNIST (chapter 2's score) 74 on 1,000 prior samples, where $2\cdot10^{-3}$ gave 78,
     $4\cdot10^{-3}$ 84 and $1.4\cdot10^{-3}$ 82 at the same batch size; batches of 32 gave 85 at
     two rates, and batches of 128 at $2\cdot10^{-3}$ gave 84 in half as many steps (a step of 128
     images costs about twice one of 64). We record both terms of the loss separately.
     */
    let epochs = options.epochs ?? options.choose(quick: 2, standard: 5, full: 20)
    let batchSize = 64
    let loader = DataLoader(
        training, batchSize: batchSize, shuffle: true, dropLast: true, seed: options.seed)
    let learningRate = 2.8e-3
    let optimizer = Adam(model.parameters, learningRate: learningRate)
    var history: [String: [Double]] = [:]

    /// One optimisation step of `model` on `batch`; records both loss terms into `history` and
    /// returns them for the progress bar.
    func trainStep(_ model: VariationalAutoencoder, _ optimizer: Adam, on batch: Batch,
                   conditional: Bool = false, klWeight: Double = 1, history: inout [String: [Double]],
                   using rng: inout RandomGenerator) -> [(String, Double)] {
        let terms = negativeELBOTerms(model, batch.images, labels: conditional ? batch.labels : nil,
                                      klWeight: klWeight, using: &rng)
        optimizer.zeroGrad()
        terms.loss.backward()
        optimizer.step()
        history["reconstruction", default: []].append(terms.reconstruction.item)
        history["KL", default: []].append(terms.kl.item)
        return [("reconstruction", terms.reconstruction.item), ("KL", terms.kl.item)]
    }

    let vaeCheckpoint = Checkpoint(models: [("vae", model)], optimizers: [("vae", optimizer)])
    try notebook.train("VAE", vaeCheckpoint, file: "vae.safetensors",
                       plan: TrainingPlan(epochs: epochs, stepsPerEpoch: loader.batchCount),
                       label: { "epoch \($0 + 1)/\(epochs)" },
                       generator: &rng, series: &history) { step, rng, history in
        trainStep(model, optimizer, on: loader.batch(step.batch, ofEpoch: step.epoch),
                  history: &history, using: &rng)
    }
    model.eval()

    let window = max(1, (history["KL"]?.count ?? 1) / 150)
    try notebook.figure("losses", svg: LineChart(
        title: "The two terms of the loss (nats per image)", xLabel: "step", yLabel: "nats",
        logY: true, series: [
        PlotSeries(name: "reconstruction ‖x − x̂‖² / 2s²", values: history["reconstruction"] ?? [],
                   averagingWindow: window),
        PlotSeries(name: "KL(q(z|x) ‖ N(0, I))", values: history["KL"] ?? [], averagingWindow: window),
    ]).svg(), caption: "Reconstruction and KL terms during training")

    /*:
     ## 3.4 · What it learned

     Test images (odd rows) and their reconstructions from the mean of $q(z \mid x)$ (even rows):
     */
    let shown = test.images.slice(0..<48, alongAxis: 0)  // [48, 1, 32, 32]
    let reconstructed = withoutGradients { model.decode(model.encode(shown).mean) }
    let pairs = Tensor.concatenate((0..<6).flatMap { row in
        [shown.slice((row * 8)..<(row * 8 + 8), alongAxis: 0),
         reconstructed.slice((row * 8)..<(row * 8 + 8), alongAxis: 0)]
    }, alongAxis: 0)
    try notebook.figure("reconstructions",
                        Bitmap(grid: pairs, range: .minusOneToOne, columns: 8, scale: 2),
                        caption: "Test images and their reconstructions, row by row")
    /*:
     New images: decode $z \sim \mathcal N(0, I)$. These are the decoder's means $\hat x$; adding the
     observation noise of spread $s$ would only sprinkle grain on them.
     */
    let priorSamples = withoutGradients {
        model.decode(Tensor.randomNormal([64, latentCount], using: &rng))
    }
    try notebook.figure("samples",
                        Bitmap(grid: priorSamples, range: .minusOneToOne, columns: 8, scale: 2),
                        caption: "Samples from the prior, decoded")
    /*:
     Walking the latent space: encode two test images, and decode the points on the straight line
     between their means.
     */
    let (startMean, _) = withoutGradients { model.encode(test.images.slice(0..<6, alongAxis: 0)) }
    let (endMean, _) = withoutGradients { model.encode(test.images.slice(6..<12, alongAxis: 0)) }
    let path = Tensor.concatenate((0..<10).map { step -> Tensor in
        let t = Double(step) / 9
        return (startMean * (1 - t) + endMean * t).reshaped([6, 1, latentCount])
    }, alongAxis: 1).reshaped([60, latentCount])  // row r: image r → image r + 6
    let interpolated = withoutGradients { model.decode(path) }
    try notebook.figure(
        "interpolation", Bitmap(grid: interpolated, range: .minusOneToOne, columns: 10, scale: 2),
        caption: "Interpolating between the latent means of two test images, one pair per row")

    /*:
     ## 3.5 · Numbers to compare: the bound in nats, and a tighter one

     The negative ELBO on the test set, per image, in nats (natural-log units), with the decoder
     above: $-\text{ELBO} = \mathbb E_q\big[\tfrac{1}{2s^2}\lVert x-\hat x\rVert^2\big] + \tfrac D2 \log(2\pi s^2) + \mathrm{KL}$.
     It is a density on continuous pixels, so it can be negative; divided by $D \ln 2$ it is in bits
     per pixel. Lower is better, and it upper-bounds $-\log p_\theta(x)$.

     The bound can be tightened by averaging several samples inside the logarithm — the
     importance-weighted bound (IWAE) with $k$ samples,
     $\log p_\theta(x) \ge \mathbb E\big[\log \frac1k \sum_{i=1}^k \frac{p_\theta(x \mid z_i)\thinspace p(z_i)}{q_\phi(z_i \mid x)}\big]$,
     which grows toward $\log p_\theta(x)$ as $k$ grows. With $k = 64$ it costs 64 decoder passes per
     image, so we use a stated subset of the test set — and report the plain ELBO on the same images
     and samples beside it (by Jensen's inequality the IWAE bound is never the looser of the two).
     */
    /// log N(v; mean, exp(logVariance)) summed over the last axis.
    func gaussianLogDensity(_ v: Tensor, mean: Tensor, logVariance: Tensor) -> Tensor {
        let standardized = (v - mean) * (logVariance * -0.5).exp()
        return ((standardized * standardized + logVariance + Foundation.log(2 * Double.pi)) * -0.5)
            .sum(alongAxes: [-1])
    }

    let elboLoader = DataLoader(test, batchSize: 250, shuffle: false)
    var elboTotal = 0.0
    withoutGradients {
        for batch in elboLoader.batches(epoch: 0) {
            let terms = negativeELBOTerms(model, batch.images, using: &rng)
            elboTotal += (terms.reconstruction.item + terms.kl.item + constant) * Double(batch.count)
        }
    }
    let negativeELBO = elboTotal / Double(test.count)

    let importanceSamples = 64
    let iwaeCount = options.choose(quick: 16, standard: 500, full: 2000)
    var iwaeTotal = 0.0, subsetELBOTotal = 0.0
    withoutGradients {
        for index in 0..<iwaeCount {
            let x = test.images.slice(index..<(index + 1), alongAxis: 0)      // [1, 1, 32, 32]
            let (mean, logVariance) = model.encode(x)                         // [1, d]
            let means = mean.broadcast(to: [importanceSamples, latentCount])
            let logVariances = logVariance.broadcast(to: [importanceSamples, latentCount])
            let z = VariationalAutoencoder.reparameterize(
                mean: means, logVariance: logVariances, using: &rng)          // [k, d]
            let decoded = model.decode(z)                                     // [k, 1, 32, 32]
            let squaredError = ((decoded - x) * (decoded - x)).sum(alongAxes: [1, 2, 3])  // [k]
            let logLikelihood = squaredError * (-1 / (2 * spread * spread)) - constant
            let logWeights = logLikelihood
                + gaussianLogDensity(z, mean: Tensor.zeros(z.shape),
                                     logVariance: Tensor.zeros(z.shape))
                - gaussianLogDensity(z, mean: means, logVariance: logVariances)  // [k]
            let largest = logWeights.max().item
            // log of the mean weight
            iwaeTotal += largest + Foundation.log((logWeights - largest).exp().mean().item)
            // mean of the log weights: the ELBO
            subsetELBOTotal += logWeights.mean().item
        }
    }
    let negativeIWAE = -iwaeTotal / Double(iwaeCount)
    let subsetNegativeELBO = -subsetELBOTotal / Double(iwaeCount)
    let bitsPerPixel = { (nats: Double) in nats / (pixelCount * Foundation.log(2.0)) }
    notebook.table(["bound on −log p(x)", "test images", "nats per image", "bits per pixel"], [
        ["negative ELBO (1 sample)", "\(test.count)",
         String(format: "%.1f", negativeELBO),
         String(format: "%.3f", bitsPerPixel(negativeELBO))],
        ["negative ELBO (average of the same 64 samples)", "first \(iwaeCount)",
         String(format: "%.1f", subsetNegativeELBO),
         String(format: "%.3f", bitsPerPixel(subsetNegativeELBO))],
        ["negative IWAE bound, k = \(importanceSamples)", "first \(iwaeCount)",
         String(format: "%.1f", negativeIWAE),
         String(format: "%.3f", bitsPerPixel(negativeIWAE))],
    ])
    notebook.record(metric: "negative ELBO on the IWAE subset nats", subsetNegativeELBO)
    notebook.record(metric: "negative ELBO nats", negativeELBO)
    notebook.record(metric: "negative IWAE nats", negativeIWAE)

    /*:
     And the sample-quality score of the last chapter, FID-FMNIST, for decoded prior samples beside
     the real-data floor at the same sample count:
     */
    let evaluator = try Evaluator.standard()
    let scoredCount = options.choose(quick: 500, standard: 5000, full: 10_000)
    let vaeScore = try evaluator.score(withoutGradients {
        model.decode(Tensor.randomNormal([scoredCount, latentCount], using: &rng))
    })
    let floorScore = try evaluator.floor(sampleCount: scoredCount, seed: options.seed)
    let vaeFID = vaeScore.formattedFID
    let floorFID = floorScore.formattedFID
    let evenness = vaeScore.coverage.formattedEvenness
    notebook.show("FID-FMNIST of \(scoredCount) prior samples: \(vaeFID) "
        + "(real-data floor \(floorFID)), \(vaeScore.coverage.coveredCount)/10 classes, "
        + "evenness \(evenness)")
    notebook.record(metric: "VAE FID-FMNIST", vaeScore.fid)

    /*:
     ## 3.6 · Posterior collapse, made visible

     The KL term is a sum over latent dimensions, and the optimiser is free to set some of them to
     exactly the prior — $\mu_j = 0$, $\sigma_j = 1$ for every image — where they cost nothing and carry
     nothing. Such a dimension has *collapsed*. Averaging each dimension's KL over the test set shows
     how many the model actually uses:
     */
    let (testMeans, testLogVariances) = withoutGradients {
        model.encode(test.images.slice(0..<min(2000, test.count), alongAxis: 0))
    }
    let perDimension = ((1 + testLogVariances - testMeans * testMeans - testLogVariances.exp()) * -0.5)
        .mean(alongAxes: [0]).doubles
    let sortedKL = perDimension.sorted(by: >)
    let active = perDimension.filter { $0 > 0.05 }.count
    try notebook.figure("kl-per-dimension", svg: LineChart(
        title: "KL per latent dimension (test average, sorted)", xLabel: "dimension (sorted)",
        yLabel: "nats", series: [PlotSeries(name: "KL_j", values: sortedKL)]).svg(),
        caption: "How much each latent dimension is used")
    notebook.show("\(active) of \(latentCount) dimensions carry more than 0.05 nats; "
        + "\(latentCount - active) have collapsed to the prior")
    notebook.record(metric: "active latent dimensions", Double(active))

    /*:
     ## 3.7 · A two-dimensional latent space

     With only two latent dimensions the whole space can be drawn. A second model, trained the same
     way with $d = 2$: first the test images' latent means, coloured by class; then the decoder's
     image at each point of a grid over $[-2.5, 2.5]^2$, drawn the same way up.
     */
    let mapModel = VariationalAutoencoder(imageChannels: 1, latentCount: 2, using: &rng)
    let mapOptimizer = Adam(mapModel.parameters, learningRate: learningRate)
    var mapHistory: [String: [Double]] = [:]
    let mapEpochs = options.choose(quick: 1, standard: 2, full: 10)
    let mapCheckpoint = Checkpoint(models: [("vae", mapModel)], optimizers: [("vae", mapOptimizer)])
    try notebook.train("2-D VAE", mapCheckpoint, file: "vae-2d.safetensors",
                       plan: TrainingPlan(epochs: mapEpochs, stepsPerEpoch: loader.batchCount),
                       label: { "2-D latent, epoch \($0 + 1)/\(mapEpochs)" },
                       generator: &rng, series: &mapHistory) { step, rng, history in
        trainStep(mapModel, mapOptimizer, on: loader.batch(step.batch, ofEpoch: step.epoch),
                  history: &history, using: &rng)
    }
    mapModel.eval()
    let mapped = withoutGradients {
        mapModel.encode(test.images.slice(0..<min(3000, test.count), alongAxis: 0)).mean
    }.doubles
    let palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                   "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
    let classSets = (0..<10).map { label in
        PointSet(name: FashionMNIST.classNames[label],
                 points: test.labels.prefix(mapped.count / 2).enumerated()
                     .filter { $0.element == label }
                     .map { (mapped[2 * $0.offset], mapped[2 * $0.offset + 1]) },
                 color: palette[label], radius: 1.5)
    }
    try notebook.figure("latent-map", svg: ScatterPlot(
        title: "Test images in a 2-D latent space", xLabel: "z₁", yLabel: "z₂",
        sets: classSets, equalAspect: true, width: 560, height: 560).svg(),
        caption: "Latent means of test images, coloured by class")
    let gridPoints: [Double] = (0..<12).flatMap { row -> [Double] in
        (0..<12).flatMap { column -> [Double] in
            [-2.5 + 5 * Double(column) / 11, 2.5 - 5 * Double(row) / 11]    // (z₁, z₂), top row first
        }
    }
    let manifold = withoutGradients {
        mapModel.decode(Tensor(gridPoints, shape: [144, 2], dtype: .float32))
    }
    try notebook.figure(
        "latent-manifold",
        Bitmap(grid: manifold, range: .minusOneToOne, columns: 12, padding: 0, scale: 2),
        caption: "The decoder over a grid of the 2-D latent space")

    /*:
     ## 3.8 · What β trades

     Three short runs with the KL term weighted by $\beta' \in \lbrace 0.25, 1, 4\rbrace$ relative to the ELBO
     ($\beta' = 1$ is the bound itself). A small $\beta'$ lets the encoder spread the codes out for
     sharp reconstructions, but the codes no longer look like $\mathcal N(0, I)$, so prior samples fall
     in places the decoder never learned; a large $\beta'$ squeezes the codes onto the prior: good
     coverage, blurry images.
     */
    let sweepImages = options.choose(quick: 1024, standard: 20_000, full: 60_000)
    let sweepLoader = DataLoader(training.prefix(sweepImages), batchSize: batchSize, shuffle: true,
                                 dropLast: true, seed: options.seed)
    var sweepRows: [[String]] = []
    var sweepPictures: [Tensor] = [], sweepLabels = ["TEST IMAGES"]
    let sweepNoise = Tensor.randomNormal([8, latentCount], using: &rng)
    for weight in [0.25, 1, 4] {
        let weightText = String(format: "%g", weight)
        let sweepModel = VariationalAutoencoder(imageChannels: 1, latentCount: latentCount, using: &rng)
        let sweepOptimizer = Adam(sweepModel.parameters, learningRate: learningRate)
        var sweepHistory: [String: [Double]] = [:]
        let sweepCheckpoint = Checkpoint(
            models: [("vae", sweepModel)], optimizers: [("vae", sweepOptimizer)])
        try notebook.train("β' = \(weightText)", sweepCheckpoint,
                           file: "beta-\(weightText).safetensors",
                           plan: TrainingPlan(epochs: 1, stepsPerEpoch: sweepLoader.batchCount),
                           label: { _ in "β' = \(weightText)" },
                           generator: &rng, series: &sweepHistory) { step, rng, history in
            trainStep(sweepModel, sweepOptimizer,
                      on: sweepLoader.batch(step.batch, ofEpoch: step.epoch), klWeight: weight,
                      history: &history, using: &rng)
        }
        sweepModel.eval()
        let reconstructions = withoutGradients {
            sweepModel.decode(sweepModel.encode(shown.slice(0..<8, alongAxis: 0)).mean)
        }
        let samples = withoutGradients { sweepModel.decode(sweepNoise) }
        sweepPictures += [reconstructions, samples]
        sweepLabels += ["B'=\(weightText) RECON.", "B'=\(weightText) PRIOR"]
        let score = try evaluator.score(withoutGradients {
            sweepModel.decode(Tensor.randomNormal([scoredCount, latentCount], using: &rng))
        })
        let tail = max(1, sweepHistory["KL"]!.count / 5)
        let reconstruction = sweepHistory["reconstruction"]!.suffix(tail).reduce(0, +) / Double(tail)
        let kl = sweepHistory["KL"]!.suffix(tail).reduce(0, +) / Double(tail)
        sweepRows.append([weightText, String(format: "%.0f", reconstruction),
                          String(format: "%.1f", kl), score.formattedFID])
    }
    notebook.table(["β'", "reconstruction (nats)", "KL (nats)", "FID-FMNIST of prior samples"],
                   sweepRows)
    let sweepGrid = Tensor.concatenate([shown.slice(0..<8, alongAxis: 0)] + sweepPictures, alongAxis: 0)
    try notebook.figure(
        "beta-sweep", Bitmap(grid: sweepGrid, range: .minusOneToOne, columns: 8, scale: 2,
                             rowLabels: sweepLabels),
        caption: "Top row: test images. Then for β' (B') = 0.25, 1, 4: their reconstructions, "
            + "and samples from the same prior noise")

    /*:
     ## 3.9 · Asking for a class: the conditional VAE

     Give both networks the label: $q_\phi(z \mid x, y)$ and $p_\theta(x \mid z, y)$. The latent code no
     longer needs to store *what* the garment is — only *how* it looks — so decoding the same $z$
     with different labels draws the same style as different garments.
     */
    let conditionalLatentCount = 2
    let conditionalModel = VariationalAutoencoder(
        imageChannels: 1, latentCount: conditionalLatentCount, classCount: 10, using: &rng)
    let conditionalOptimizer = Adam(conditionalModel.parameters, learningRate: learningRate)
    var conditionalHistory: [String: [Double]] = [:]
    let conditionalEpochs = options.choose(quick: 1, standard: 2, full: 10)
    let conditionalCheckpoint = Checkpoint(
        models: [("cvae", conditionalModel)], optimizers: [("cvae", conditionalOptimizer)])
    try notebook.train("conditional VAE", conditionalCheckpoint, file: "cvae.safetensors",
                       plan: TrainingPlan(epochs: conditionalEpochs, stepsPerEpoch: loader.batchCount),
                       label: { "conditional, epoch \($0 + 1)/\(conditionalEpochs)" },
                       generator: &rng, series: &conditionalHistory) { step, rng, history in
        trainStep(conditionalModel, conditionalOptimizer,
                  on: loader.batch(step.batch, ofEpoch: step.epoch), conditional: true,
                  history: &history, using: &rng)
    }
    conditionalModel.eval()
    let styleNoise = Tensor.randomNormal([10, conditionalLatentCount], using: &rng)
    let rowLabels = (0..<10).flatMap { [Int](repeating: $0, count: 10) }
    let byClass = withoutGradients {
        let rowNoise = Tensor.concatenate([Tensor](repeating: styleNoise, count: 10), alongAxis: 0)
        return conditionalModel.decode(rowNoise, labels: rowLabels)
    }
    try notebook.figure(
        "conditional",
        Bitmap(grid: byClass, range: .minusOneToOne, columns: 10, scale: 2,
               rowLabels: FashionMNIST.classNames),
        caption: "One row per requested class, the same ten latent vectors in every row")
    let agreement = try evaluator.labelAgreement(byClass, labels: rowLabels)
    notebook.show("the classifier agrees with the requested class for "
        + "\(String(format: "%.0f%%", 100 * agreement)) of these samples")
    notebook.record(metric: "conditional label agreement", agreement)

    /*:
     ## 3.10 · Summary

     The VAE trades the GAN's sharpness for a likelihood bound and a well-behaved latent space:
     reconstructions and interpolations are smooth, the bound in nats makes models comparable, and the
     KL per dimension tells how much of the code is really used. Its samples are blurrier because
     the Gaussian decoder averages over what it cannot predict. The next chapter's diffusion model
     keeps a likelihood bound but learns to remove noise a little at a time — and its samples are sharp.
     */
    try notebook.finish()
} catch {
    Notebook.exit(dueTo: error)
}
