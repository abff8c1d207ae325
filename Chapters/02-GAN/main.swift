/*:
 # Chapter 2 · Generative adversarial networks

 A generative adversarial network (sections 2.1, 3.1 and 4.1 of the source) learns to draw images
 without ever writing down a probability. Two networks are trained against each other: a
 **generator** $G$ turns random noise into images, and a **discriminator** $D$ looks at an image and
 says how likely it is to be real. $D$ is rewarded for telling the two apart, $G$ for fooling $D$.
 If both keep improving, the only way for $G$ to win is to produce images that $D$ cannot
 distinguish from the training set.

 This chapter builds the source's DCGAN, trains it on Fashion-MNIST, measures what it learned, and
 then fixes its two classic weaknesses: unstable training (with WGAN-GP) and no control over what
 it draws (with a class-conditional GAN).

 Run it with `swift run -c release GAN`. Before each of its three trainings it times a few steps
 and says how long the training will take on your machine; `--minutes M` gives all three M minutes
 in all (it says how it shares them), and the chapter goes on with what they learned. `--quick` is
 a smoke test; `--full` trains the source's full-width networks (15 epochs of DCGAN, 1,000 WGAN-GP
 generator steps and 5 epochs of the conditional GAN: hours on two cores), checkpointed as it goes
 so that `--full --resume` continues an interrupted run.
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
        chapter: "02-GAN", title: "Chapter 2 · Generative adversarial networks", options: options,
        trainings: [("DCGAN", 0.6), ("WGAN-GP", 0.2), ("conditional GAN", 0.2)])
    var rng = RandomGenerator(seed: options.seed)

    /*:
     ## 2.1 · The data

     Fashion-MNIST: 60,000 grey 28×28 photographs of ten kinds of clothing. We scale pixels to
     $[-1, 1]$, the range of the generator's final $\tanh$, and pad each image with two pixels of
     background to 32×32, a size that halves cleanly through the networks: 32 → 16 → 8 → 4.
     */
    let training = try FashionMNIST.load(
        .train, padding: 2, limit: options.choose(quick: 2048, standard: nil, full: nil))
    let classList = training.classNames.joined(separator: ", ")
    notebook.show("\(training.count) training images of \(training.imageShape), classes: \(classList)")
    let firstImages = training.images.slice(0..<64, alongAxis: 0)
    try notebook.figure("real", Bitmap(grid: firstImages, range: .minusOneToOne, columns: 8, scale: 2),
                        caption: "Real Fashion-MNIST images")

    /*:
     ## 2.2 · The game

     $D(x) \in (0, 1)$ is the discriminator's probability that $x$ is real. Both networks play the
     minimax game of the source's section 3.1 over the value

     $$V(D, G) = \mathbb E_{x \sim p_{\text{data}}}[\log D(x)] + \mathbb E_{z \sim \mathcal N(0, I)}[\log(1 - D(G(z)))].$$

     For a fixed generator whose samples have density $p_g$, the best discriminator is
     $D^*(x) = p_{\text{data}}(x) / (p_{\text{data}}(x) + p_g(x))$; substituting it gives
     $V(D^*, G) = 2\thinspace \mathrm{JS}(p_{\text{data}} \thinspace \Vert\thinspace p_g) - \log 4$, where JS is the
     Jensen–Shannon divergence. So the generator's best move is to make $p_g = p_{\text{data}}$, where
     $D^* = \tfrac12$ everywhere and the value is $-\log 4$.

     The source trains this in seven steps, which the loop below follows line by line:

     1. initialise $G$ and $D$;
     2. feed real images $x$ to $D$ and get $D(x)$;
     3. draw noise $z$ and make fakes $G(z)$;
     4. feed the fakes to $D$ and get $D(G(z))$;
     5. compute $D$'s loss from both and update $D$;
     6. with $D$ held fixed, compute $G$'s loss and update $G$;
     7. repeat from step 2.

     In code, $D$ outputs a *logit* $a$ with $D(x) = \sigma(a)$, and the log-probabilities are folded into
     a numerically stable binary cross-entropy on logits: $D$'s loss is
     $-\log \sigma(a_{\text{real}}) - \log(1 - \sigma(a_{\text{fake}}))$, exactly $-V$ on one batch.

     ### Why the generator uses $-\log D(G(z))$

     Taken literally, step 6 would have $G$ minimise $\log(1 - D(G(z)))$. Early on, $D$ rejects the
     fakes with confidence, $D(G(z)) \approx 0$, and there this curve is flat: its gradient with respect
     to the logit is $-\sigma(a)$, which vanishes. The source's own code, like nearly every GAN, instead
     minimises $-\log D(G(z))$ ("non-saturating"): the same fixed point, but a gradient of
     $-(1 - \sigma(a))$, largest exactly when the generator is worst. Autograd shows the difference:
     */
    let logits = Tensor.arange(-8, 8.01, step: 0.25, dtype: .float64)          // a = logit of D(G(z))
    logits.requiresGrad = true
    // d/da log(1 − σ(a))
    let saturatingGradient = (1 - logits.sigmoid()).log().sum().gradients(withRespectTo: [logits])[0]
    // d/da −log σ(a)
    let nonSaturatingGradient = (-logits.sigmoid().log()).sum().gradients(withRespectTo: [logits])[0]
    let probabilities = withoutGradients { logits.sigmoid() }.doubles
    try notebook.figure("generator-loss-gradients", svg: LineChart(
        title: "Generator's gradient vs how convinced D is", xLabel: "D(G(z))",
        yLabel: "|gradient w.r.t. the logit|",
        series: [PlotSeries(name: "log(1 − D(G(z)))  (saturating)", x: probabilities,
                            y: saturatingGradient.doubles.map(Swift.abs)),
                 PlotSeries(name: "−log D(G(z))  (non-saturating)", x: probabilities,
                            y: nonSaturatingGradient.doubles.map(Swift.abs))]).svg(),
        caption: "Where D rejects the fakes (left), "
            + "only the non-saturating loss still pushes the generator")

    /*:
     ## 2.3 · The networks

     The source's DCGAN generator (its section 4.1) takes a 100-dimensional $z$, viewed as a 1×1 image with 100
     channels, and grows it with four 4×4 transposed convolutions: 1 → 4 → 8 → 16 → 32 pixels, with
     512, 256 and 128 channels in between, BatchNorm and ReLU after each but the last, and $\tanh$ at
     the end. The discriminator mirrors it with strided convolutions and LeakyReLU(0.2), ending in one
     logit. Weights start from $\mathcal N(0, 0.02^2)$, as the DCGAN paper prescribes.

     At full width one training step of 64 images costs about fifty billion multiply–adds, and a GAN
     wants many epochs of 937 steps. The default run therefore keeps the architecture but narrows
     every layer by a factor of eight (64, 32, 16 channels), which cuts the work by about sixty;
     `--full` uses the source's widths, and its estimate line says what that costs on your machine.
     A narrower network learns less per step but takes more steps a minute, and in minutes that wins:
     given the same 2.9 minutes on one thread of a 2-core AMD EPYC (Zen 3), beside another training,
     this one took 1,826 steps and reached FID-FMNIST (below) 28.5 on 1,000 samples, one twice as wide
     567 steps and 92.
     */
    let latentCount = 100
    let widths = options.choose(quick: (generator: [32, 16, 8], discriminator: [8, 16, 32]),
                                standard: (generator: [64, 32, 16], discriminator: [16, 32, 64]),
                                full: (generator: [512, 256, 128], discriminator: [128, 256, 512]))
    let generator = DCGANGenerator(
        latentCount: latentCount, widths: widths.generator, imageChannels: 1, using: &rng)
    let discriminator = DCGANDiscriminator(widths: widths.discriminator, imageChannels: 1, using: &rng)
    notebook.show("generator: \(generator.parameterCount) parameters, "
        + "discriminator: \(discriminator.parameterCount)")
    let firstParameters = generator.namedParameters().prefix(4).map { "\($0.name) \($0.tensor.shape)" }
    notebook.show(firstParameters.joined(separator: ", ") + ", …")

    /*:
     ## 2.4 · Training

     Adam with $\beta = (0.5, 0.999)$, as the source sets it; a lower $\beta_1$ than usual keeps the
     momentum from carrying either player too far in a game whose target keeps moving. The source's
     learning rate, $2\cdot10^{-4}$, is for its full widths (and `--full` keeps it); the narrowed
     network trains stably at four times that, $8\cdot10^{-4}$, and gets much further in the same
     steps: measured on this network with 1,000 samples, FID-FMNIST (below) after 1,400 steps was 42
     with the larger rate and 117 with the source's, both with the average that follows.

     We also keep an **exponential moving average** of the generator's weights,
     $\bar\theta \leftarrow \lambda\bar\theta + (1-\lambda)\theta$ after every step, with $\lambda = 0.99$
     (it spans about the last hundred steps), and draw every picture and score below with $\bar\theta$. The
     generator chases a discriminator that keeps moving, so its weights circle around a good point
     rather than settle on it, and their average sits closer to the middle (Yazıcı et al., 2019).
     Averaging costs one pass over the weights per step and changes nothing in the game itself.

     A fixed batch of noise is drawn once and pushed through the generator after every epoch, so the
     pictures show one set of samples maturing. A checkpoint, with the averaged weights, is written
     after every epoch and where a `--minutes` budget ends; `--resume` picks up from the last one.
     */
    let epochs = options.epochs ?? options.choose(quick: 2, standard: 3, full: 15)
    let batchSize = 64
    let loader = DataLoader(
        training, batchSize: batchSize, shuffle: true, dropLast: true, seed: options.seed)
    let fixedNoise = Tensor.randomNormal([64, latentCount, 1, 1], using: &rng)
    let learningRate = options.choose(quick: 8e-4, standard: 8e-4, full: 2e-4)
    let generatorOptimizer = Adam(generator.parameters, learningRate: learningRate, betas: (0.5, 0.999))
    let discriminatorOptimizer = Adam(
        discriminator.parameters, learningRate: learningRate, betas: (0.5, 0.999))
    let averageDecay = 0.99
    let generatorAverage = ExponentialMovingAverage(generator.parameters, decay: averageDecay)
    let real = Tensor.ones([batchSize]), fake = Tensor.zeros([batchSize])
    var history: [String: [Double]] = [:]

    /// Samples from `generator` in evaluation mode (BatchNorm uses its running statistics), with
    /// the averaged weights when there is an `average`.
    func sample(_ generator: DCGANGenerator, _ noise: Tensor, labels: [Int]? = nil,
                average: ExponentialMovingAverage? = nil) -> Tensor {
        generator.eval()
        defer { generator.train() }
        let draw = { withoutGradients { generator(noise, labels: labels) } }
        return average.map { $0.withAveragedWeights(draw) } ?? draw()
    }

    let dcgan = Checkpoint(
        models: [("generator", generator), ("discriminator", discriminator)],
        optimizers: [("generator", generatorOptimizer), ("discriminator", discriminatorOptimizer)],
        averages: [("generator", generatorAverage)])
    let dcganPlan = TrainingPlan(epochs: epochs, stepsPerEpoch: loader.batchCount)
    let dcganTraining = try notebook.train("DCGAN", dcgan, file: "dcgan.safetensors", plan: dcganPlan,
                                           label: { "epoch \($0 + 1)/\(epochs)" },
                                           generator: &rng, series: &history) { step, rng, history in
        let x = loader.batch(step.batch, ofEpoch: step.epoch).images  // [B, 1, 32, 32]
        // step 2: logits of D(x), [B]
        let realScores = discriminator(x)
        // step 3
        let z = Tensor.randomNormal([batchSize, latentCount, 1, 1], using: &rng)
        let generated = generator(z)                                  // G(z), [B, 1, 32, 32]
        // step 4: D(G(z)), no gradient into G
        let fakeScores = discriminator(generated.detached())
        // step 5
        let discriminatorLoss = binaryCrossEntropyWithLogits(realScores, real)
            + binaryCrossEntropyWithLogits(fakeScores, fake)
        discriminatorOptimizer.zeroGrad()
        discriminatorLoss.backward()
        discriminatorOptimizer.step()

        // step 6: D held fixed
        discriminator.setRequiresGrad(false)
        let generatorLoss = binaryCrossEntropyWithLogits(discriminator(generated), real)
        generatorOptimizer.zeroGrad()
        generatorLoss.backward()
        generatorOptimizer.step()
        generatorAverage.update()
        discriminator.setRequiresGrad(true)

        let dOfX = realScores.sigmoid().mean().item, dOfGz = fakeScores.sigmoid().mean().item
        let metrics = [("D loss", discriminatorLoss.item), ("G loss", generatorLoss.item),
                       ("D(x)", dOfX), ("D(G(z))", dOfGz)]
        for (key, value) in metrics { history[key, default: []].append(value) }
        return metrics
    } afterEpoch: { epoch, complete in
        let samples = sample(generator, fixedNoise, average: generatorAverage)
        let when = complete ? "after" : "where the budget ended, in"
        try notebook.figure("epoch-\(epoch + 1)",
                            Bitmap(grid: samples, range: .minusOneToOne, columns: 8, scale: 2),
                            caption: "Samples from the fixed noise \(when) epoch \(epoch + 1)")
    }

    /*:
     ## 2.5 · What it learned

     The first eight of those noise vectors after each epoch, top to bottom: shapes first, then the
     classes, then detail.
     */
    // The top row of each epoch's grid: padding, one 32-pixel image drawn at twice its size, padding.
    let firstRowHeight = 2 + 2 * 32 + 2
    let epochRows = try (1...dcganTraining.epochsStarted).map { epoch -> Bitmap in
        let file = notebook.outputDirectory.appendingPathComponent("epoch-\(epoch).png")
        let grid = try PNG.read(from: file)
        return grid.cropped(left: 0, top: 0, width: grid.width, height: firstRowHeight)
    }
    try notebook.figure("epochs",
                        Bitmap(tiling: epochRows, columns: 1, padding: 0,
                               rowLabels: epochRows.indices.map { "EPOCH \($0 + 1)" }),
                        caption: "The fixed noise, epoch by epoch", preview: false)
    let finalSamples = sample(
        generator, Tensor.randomNormal([100, latentCount, 1, 1], using: &rng),
        average: generatorAverage)
    try notebook.figure("samples",
                        Bitmap(grid: finalSamples, range: .minusOneToOne, columns: 10, scale: 2),
                        caption: "New samples from the trained generator")

    /*:
     A generator is a smooth map, so walking in a straight line between two noise vectors $z_0$ and
     $z_1$, $z_t = (1 - t) z_0 + t z_1$, should morph one garment into another through plausible ones —
     evidence that $G$ has learned a continuous space of clothes rather than memorised pictures.
     */
    let ends = (Tensor.randomNormal([6, latentCount, 1, 1], using: &rng),
                Tensor.randomNormal([6, latentCount, 1, 1], using: &rng))
    let path = Tensor.concatenate((0..<10).map { step -> Tensor in
        let t = Double(step) / 9
        return (ends.0 * (1 - t) + ends.1 * t).reshaped([6, 1, latentCount, 1, 1])
    }, alongAxis: 1).reshaped([60, latentCount, 1, 1])  // row r: z₀[r] → z₁[r]
    try notebook.figure(
        "interpolation",
        Bitmap(grid: sample(generator, path, average: generatorAverage), range: .minusOneToOne,
               columns: 10, scale: 2),
        caption: "Straight lines in noise space, one per row")

    /*:
     ### Reading the curves: balance and collapse

     GAN losses do not fall to zero, and should not: they are the scores of a game. At the equilibrium
     $D$'s loss would be $\log 4 \approx 1.39$ and $D(x) = D(G(z)) = \tfrac12$. In practice $D$ stays
     somewhat ahead in a healthy run — $D(x)$ above one half, $D(G(z))$ below, its loss under
     $\log 4$ — with both outputs wandering but neither pinned. If $D(G(z))$ sinks to zero and stays there, $D$ has won and $G$'s gradients are drying up;
     if $D$'s loss climbs while $G$'s collapses, $G$ is exploiting a weakness of $D$ rather than learning.

     The other classic failure is **mode collapse**: $G$ finds a few outputs that fool $D$ and draws
     only those. The loss curves barely show it — look at the samples, and count what they contain. A
     small classifier trained once on Fashion-MNIST sorts our samples into the ten classes: a collapsed
     generator covers few of them, unevenly.

     Counting classes misses a generator that draws every class but only one shirt of each. Two
     shares in the classifier's feature space see that too (Kynkäänniemi et al., 2019). Around each
     real image put a ball reaching to its third-nearest real neighbour; **precision** is the share of
     samples that fall inside some real ball — do they look real? Put the same balls around the
     samples; **recall** is the share of real images inside some sample's ball — is every kind of real
     image drawn? A collapsed generator keeps its precision and loses its recall; blurry or broken
     samples lose precision first. The floor row scores real training images the same way: with a
     few thousand images, neither share reaches 1 even for real data.
     */
    let window = max(1, (history["D loss"]?.count ?? 1) / 150)
    try notebook.figure("losses", svg: LineChart(
        title: "DCGAN losses", xLabel: "step", yLabel: "binary cross-entropy", series: [
        PlotSeries(name: "discriminator", values: history["D loss"] ?? [], averagingWindow: window),
        PlotSeries(name: "generator", values: history["G loss"] ?? [], averagingWindow: window),
        PlotSeries(name: "log 4 (equilibrium)",
                   points: [(0, Foundation.log(4.0)),
                            (Double(history["D loss"]?.count ?? 1), Foundation.log(4.0))]),
    ]).svg(), caption: "Discriminator and generator losses")
    try notebook.figure("discriminator-outputs", svg: LineChart(
        title: "What D believes", xLabel: "step", yLabel: "mean probability", series: [
        PlotSeries(name: "D(x), real images", values: history["D(x)"] ?? [], averagingWindow: window),
        PlotSeries(name: "D(G(z)), generated images", values: history["D(G(z))"] ?? [],
                   averagingWindow: window),
    ]).svg(), caption: "D(x) and D(G(z)) over training")

    /*:
     ### A number: FID-FMNIST

     Pictures are the final judge, but a number lets runs be compared. The *Fréchet distance* fits a
     Gaussian to the classifier's 128 penultimate features of a set of images and compares two sets by
     $\lVert \mu_1 - \mu_2 \rVert^2 + \mathrm{Tr}\big(\Sigma_1 + \Sigma_2 - 2(\Sigma_1^{1/2}\Sigma_2\Sigma_1^{1/2})^{1/2}\big)$.
     Here it compares generated images with the Fashion-MNIST test set: lower is better, zero only for
     identical statistics. The same recipe on Inception features is the FID of the literature; ours
     uses a Fashion-MNIST classifier, so we call it FID-FMNIST and compare it only with itself. Fewer
     samples bias it upwards, so the floor — real training images scored the same way, at the same
     sample count — is printed beside it.
     */
    let evaluator = try Evaluator.standard()
    let scoredCount = options.choose(quick: 500, standard: 5000, full: 10_000)
    let scoredSamples = sample(
        generator, Tensor.randomNormal([scoredCount, latentCount, 1, 1], using: &rng),
        average: generatorAverage)
    let dcganScore = try evaluator.score(scoredSamples)
    let dcganShares = try evaluator.precisionRecall(of: scoredSamples, seed: options.seed)
    let floorScore = try evaluator.floor(sampleCount: scoredCount, seed: options.seed)
    let floorShares = try evaluator.precisionRecall(
        of: Evaluator.realTrainingImages(count: scoredCount, seed: options.seed), seed: options.seed)
    notebook.show("classifier test accuracy \(String(format: "%.1f%%", 100 * evaluator.testAccuracy))")
    notebook.table(["images (\(scoredCount))", "FID-FMNIST", "classes covered", "evenness",
                    "precision", "recall"], [
        ["real training images (the floor)", floorScore.formattedFID,
         floorScore.coverage.formattedCount, floorScore.coverage.formattedEvenness,
         floorShares.formattedPrecision, floorShares.formattedRecall],
        ["DCGAN samples", dcganScore.formattedFID,
         dcganScore.coverage.formattedCount, dcganScore.coverage.formattedEvenness,
         dcganShares.formattedPrecision, dcganShares.formattedRecall],
    ])
    let perClass = zip(FashionMNIST.classNames, dcganScore.coverage.histogram).map { "\($0) \($1)" }
    notebook.show("DCGAN samples per class: " + perClass.joined(separator: ", "))
    notebook.record(metric: "DCGAN FID-FMNIST", dcganScore.fid)
    notebook.record(metric: "floor FID-FMNIST", floorScore.fid)
    notebook.record(metric: "DCGAN classes covered", Double(dcganScore.coverage.coveredCount))
    notebook.record(metric: "DCGAN precision", dcganShares.precision)
    notebook.record(metric: "DCGAN recall", dcganShares.recall)

    /*:
     The default run's narrowed DCGAN, after three epochs, is far from the floor. Width and training time
     are what is missing, not the method: a `--full` run (the source's widths and learning rate, 15
     epochs, sampled with its last weights rather than their average) reached
     FID-FMNIST 1.76 on 10,000 samples against a floor of
     0.19, covering the ten classes almost exactly evenly (evenness 0.999).
     */

    /*:
     ## 2.6 · When it fails, and a fix: WGAN-GP

     The Jensen–Shannon game has a weakness: when real and generated images barely overlap — as at the
     start — a good discriminator separates them perfectly and its feedback goes flat. The
     Wasserstein GAN replaces the probability-giving discriminator by a **critic** $C$ with an unbounded
     score, and estimates the earth mover's distance between the two distributions,

     $$W(p_{\text{data}}, p_g) = \sup_{\lVert C \rVert_L \le 1} \mathbb E_{x \sim p_{\text{data}}}[C(x)] - \mathbb E_{z}[C(G(z))],$$

     a distance that shrinks smoothly as the distributions approach, overlapping or not. The supremum
     is over 1-Lipschitz functions; WGAN-GP enforces that softly with a *gradient penalty* on points
     $\hat x = \epsilon x + (1 - \epsilon) G(z)$ between real and fake images, $\epsilon \sim U(0, 1)$:

     $$L_C = \mathbb E[C(G(z))] - \mathbb E[C(x)] + \lambda\thinspace \mathbb E\big[(\lVert \nabla_{\hat x} C(\hat x) \rVert_2 - 1)^2\big], \qquad L_G = -\mathbb E[C(G(z))].$$

     The penalty contains a gradient, so training the critic needs the gradient *of a gradient*: the
     backward pass that computes $\nabla_{\hat x} C$ is itself recorded (`createGraph: true`) and
     differentiated. The critic drops BatchNorm (the penalty is per image, and BatchNorm mixes the
     images of a batch), takes $n_{\text{critic}} = 5$ steps per generator step, and Adam uses the
     WGAN-GP paper's $\beta = (0, 0.9)$ and $\lambda = 10$. Each critic step costs about three ordinary
     ones, so the default run affords only 300 generator steps: enough to watch the distance estimate
     fall, not for good samples — `--full` trains the full widths properly, at the paper's learning
     rate $10^{-4}$. As with the DCGAN, the narrowed networks want a larger one: measured on one
     thread of a 2-core Intel Xeon, 300 steps at $10^{-4}$ left the generator drawing one grey blob
     (FID-FMNIST 398 on 5,000 samples, 5 classes), $3\cdot10^{-4}$ reached 172 and $6\cdot10^{-4}$,
     used here, 137.
     */
    let wganGenerator = DCGANGenerator(
        latentCount: latentCount, widths: widths.generator, imageChannels: 1, using: &rng)
    let critic = DCGANDiscriminator(
        widths: widths.discriminator, imageChannels: 1, batchNorm: false, using: &rng)
    let wganRate = options.choose(quick: 6e-4, standard: 6e-4, full: 1e-4)
    let wganGeneratorOptimizer = Adam(
        wganGenerator.parameters, learningRate: wganRate, betas: (0, 0.9))
    let criticOptimizer = Adam(critic.parameters, learningRate: wganRate, betas: (0, 0.9))
    let criticSteps = 5, penaltyWeight = 10.0
    let wganGeneratorSteps = options.choose(quick: 20, standard: 300, full: 1000)
    // generator steps between checkpoints
    let wganRoundSteps = options.choose(quick: 20, standard: 100, full: 100)
    let wganRounds = wganGeneratorSteps / wganRoundSteps
    var wganHistory: [String: [Double]] = [:]

    let wgan = Checkpoint(
        models: [("generator", wganGenerator), ("critic", critic)],
        optimizers: [("generator", wganGeneratorOptimizer), ("critic", criticOptimizer)])
    let wganPlan = TrainingPlan(epochs: wganRounds, stepsPerEpoch: wganRoundSteps)
    let wganLabel = { (round: Int) -> String in
        let first = round * wganRoundSteps + 1, last = (round + 1) * wganRoundSteps
        return "WGAN-GP steps \(first)–\(last) of \(wganGeneratorSteps)"
    }
    let wganTraining = try notebook.train("WGAN-GP", wgan, file: "wgan-gp.safetensors", plan: wganPlan,
                                          label: wganLabel, generator: &rng,
                                          series: &wganHistory) { step, rng, history in
        // the critic reads the data in the loader's epochs, in order
        for criticStep in 0..<criticSteps {
            let read = step.index * criticSteps + criticStep
            // [B, 1, 32, 32]
            let x = loader.batch(read % loader.batchCount, ofEpoch: read / loader.batchCount).images
            let z = Tensor.randomNormal([batchSize, latentCount, 1, 1], using: &rng)
            let generated = wganGenerator(z).detached()
            let epsilon = Tensor.randomUniform([batchSize, 1, 1, 1], using: &rng)
            let between = (x * epsilon + generated * (1 - epsilon)).detached()    // x̂
            between.requiresGrad = true
            let gradient = critic(between).sum()
                .gradients(withRespectTo: [between], createGraph: true)[0]        // ∇x̂ C(x̂)
            let norms = ((gradient * gradient).sum(alongAxes: [1, 2, 3]) + 1e-12).sqrt()  // [B]
            let penalty = ((norms - 1) * (norms - 1)).mean()
            let distance = critic(x).mean() - critic(generated).mean()            // the W estimate
            let criticLoss = -distance + penalty * penaltyWeight
            criticOptimizer.zeroGrad()
            criticLoss.backward()
            criticOptimizer.step()
            history["W estimate", default: []].append(distance.item)
            history["penalty", default: []].append(penalty.item)
        }
        critic.setRequiresGrad(false)
        let z = Tensor.randomNormal([batchSize, latentCount, 1, 1], using: &rng)
        let generatorLoss = -critic(wganGenerator(z)).mean()
        wganGeneratorOptimizer.zeroGrad()
        generatorLoss.backward()
        wganGeneratorOptimizer.step()
        critic.setRequiresGrad(true)
        return [("W estimate", history["W estimate"]!.last!), ("penalty", history["penalty"]!.last!)]
    }
    let wganSamples = sample(wganGenerator, fixedNoise)
    try notebook.figure("wgan-gp-samples",
                        Bitmap(grid: wganSamples, range: .minusOneToOne, columns: 8, scale: 2),
                        caption: "WGAN-GP samples from the same fixed noise")

    /*:
     The critic's estimate of the Wasserstein distance is a loss curve that means something: it falls
     as the samples improve. The vanilla discriminator's loss, beside it, only says how the game
     stands. The two trainings take different numbers of steps, so the chart puts each against
     the share of its own training done, and its logarithmic axis shows all three curves' shapes,
     although the distance is many times the losses.
     */
    /// `values` smoothed, against the share of their training done (0 → 1).
    func againstShare(_ values: [Double]) -> [(x: Double, y: Double)] {
        let window = max(1, values.count / 150)
        let count = Double(max(1, values.count))
        return PlotSeries.windowMeans(of: values, window: window).map { (x: $0.x / count, y: $0.y) }
    }
    try notebook.figure("wgan-gp-curves", svg: LineChart(
        title: "WGAN-GP critic vs DCGAN discriminator", xLabel: "share of the training done",
        yLabel: "value (log scale)", logY: true, series: [
        PlotSeries(name: "WGAN-GP: Wasserstein estimate",
                   points: againstShare(wganHistory["W estimate"] ?? [])),
        PlotSeries(name: "WGAN-GP: gradient penalty",
                   points: againstShare(wganHistory["penalty"] ?? [])),
        PlotSeries(name: "DCGAN: discriminator loss", points: againstShare(history["D loss"] ?? [])),
    ]).svg(),
        caption: "The critic's distance estimate falls as training proceeds; the DCGAN loss hovers")
    let wganScored = sample(
        wganGenerator, Tensor.randomNormal([scoredCount, latentCount, 1, 1], using: &rng))
    let wganScore = try evaluator.score(wganScored)
    let wganShares = try evaluator.precisionRecall(of: wganScored, seed: options.seed)
    notebook.show("WGAN-GP after \(wganTraining.steps) generator steps: "
        + "FID-FMNIST \(wganScore.formattedFID), "
        + "\(wganScore.coverage.formattedCount) classes, \(wganShares.line)")
    notebook.record(metric: "WGAN-GP FID-FMNIST", wganScore.fid)

    /*:
     ## 2.7 · Asking for a class: the conditional GAN

     An unconditional generator decides for itself what to draw. Give both players the label $y$ and
     the game becomes $\min_G \max_D \mathbb E[\log D(x \mid y)] + \mathbb E[\log(1 - D(G(z \mid y) \mid y))]$:
     $D$ now rejects a real-looking shirt offered as a sneaker, so $G$ must draw what it is asked for.
     The generator appends a learned 10-dimensional embedding of $y$ to $z$; the discriminator receives
     a learned 32×32 map of $y$ as a second input channel. Everything else is the DCGAN above.
     */
    let classCount = 10
    let conditionalGenerator = DCGANGenerator(
        latentCount: latentCount, widths: widths.generator, imageChannels: 1, classCount: classCount,
        using: &rng)
    let conditionalDiscriminator = DCGANDiscriminator(
        widths: widths.discriminator, imageChannels: 1, classCount: classCount, using: &rng)
    let conditionalGeneratorOptimizer = Adam(
        conditionalGenerator.parameters, learningRate: learningRate, betas: (0.5, 0.999))
    let conditionalDiscriminatorOptimizer = Adam(
        conditionalDiscriminator.parameters, learningRate: learningRate, betas: (0.5, 0.999))
    let conditionalAverage = ExponentialMovingAverage(
        conditionalGenerator.parameters, decay: averageDecay)
    let conditionalEpochs = options.choose(quick: 1, standard: 2, full: 5)
    var conditionalHistory: [String: [Double]] = [:]

    let conditional = Checkpoint(
        models: [("generator", conditionalGenerator), ("discriminator", conditionalDiscriminator)],
        optimizers: [("generator", conditionalGeneratorOptimizer),
                     ("discriminator", conditionalDiscriminatorOptimizer)],
        averages: [("generator", conditionalAverage)])
    try notebook.train("conditional GAN", conditional, file: "cgan.safetensors",
                       plan: TrainingPlan(epochs: conditionalEpochs, stepsPerEpoch: loader.batchCount),
                       label: { "conditional epoch \($0 + 1)/\(conditionalEpochs)" }, generator: &rng,
                       series: &conditionalHistory) { step, rng, history in
        let batch = loader.batch(step.batch, ofEpoch: step.epoch)
        let labels = batch.labels
        let z = Tensor.randomNormal([batchSize, latentCount, 1, 1], using: &rng)
        let generated = conditionalGenerator(z, labels: labels)
        let realScores = conditionalDiscriminator(batch.images, labels: labels)
        let discriminatorLoss = binaryCrossEntropyWithLogits(realScores, real)
            + binaryCrossEntropyWithLogits(
                conditionalDiscriminator(generated.detached(), labels: labels), fake)
        conditionalDiscriminatorOptimizer.zeroGrad()
        discriminatorLoss.backward()
        conditionalDiscriminatorOptimizer.step()
        conditionalDiscriminator.setRequiresGrad(false)
        let generatorLoss = binaryCrossEntropyWithLogits(
            conditionalDiscriminator(generated, labels: labels), real)
        conditionalGeneratorOptimizer.zeroGrad()
        generatorLoss.backward()
        conditionalGeneratorOptimizer.step()
        conditionalAverage.update()
        conditionalDiscriminator.setRequiresGrad(true)
        history["D loss", default: []].append(discriminatorLoss.item)
        return [("D loss", discriminatorLoss.item), ("G loss", generatorLoss.item)]
    }
    /*:
     One row per class, the same ten noise vectors in every row: within a row the noise varies the
     style, across rows the label changes what is drawn.
     */
    let columnNoise = Tensor.randomNormal([10, latentCount, 1, 1], using: &rng)
    // [100, 100, 1, 1]
    let rowNoise = Tensor.concatenate([Tensor](repeating: columnNoise, count: classCount), alongAxis: 0)
    let rowLabels = (0..<classCount).flatMap { [Int](repeating: $0, count: 10) }
    let byClass = sample(conditionalGenerator, rowNoise, labels: rowLabels, average: conditionalAverage)
    try notebook.figure(
        "conditional",
        Bitmap(grid: byClass, range: .minusOneToOne, columns: 10, scale: 2,
               rowLabels: FashionMNIST.classNames),
        caption: "Class-conditional samples: one row per class")
    let agreement = try evaluator.labelAgreement(byClass, labels: rowLabels)
    notebook.show("the classifier agrees with the requested class for "
        + "\(String(format: "%.0f%%", 100 * agreement)) of these samples")
    notebook.record(metric: "conditional label agreement", agreement)

    /*:
     ## 2.8 · Summary

     The adversarial game trains a sampler directly, and its samples are sharp — no likelihood is ever
     computed, which is both its strength and the reason its losses say so little. Watch the samples
     and the balance of $D(x)$ and $D(G(z))$; use a distance like FID-FMNIST to compare runs; reach for
     WGAN-GP when training is unstable and for conditioning when you need control. The next chapter
     takes the opposite route: a model with an explicit (bound on its) likelihood.
     */
    try notebook.finish()
} catch {
    Notebook.exit(dueTo: error)
}
