/*:
 # Chapter 5 · Flow matching and latent models

 The source stops at DDPM. The image generators built since train the same kind of network with a
 simpler objective: *flow matching* (Lipman et al., 2023), also called *rectified flow* (Liu et al.,
 2023). Noise and data are joined by straight lines, a network learns the velocity that moves
 points along them, and sampling integrates that velocity — an ordinary differential equation —
 in a handful of steps. Large generators then run this in the latent space of an autoencoder,
 which is how they afford high resolution.

 This chapter builds both: first on points in the plane, where the velocity field can be drawn;
 then on Fashion-MNIST with the U-Net of chapter 4, beside a diffusion model of the same size and
 training budget; then with straighter paths (reflow), and in a VAE's latent space.

 Run it with `swift run -c release Flow` (before training it says how long that will take on your
 machine; `--minutes M` sets a budget instead), `--quick` for a smoke test, or `--full` for the
 longer trainings. Its models are checkpointed, `--resume` continues them, and
 `swift run -c release Sample --checkpoint output/05-Flow/flow.safetensors --sampler heun --steps 8`
 draws from the image model.
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
        chapter: "05-Flow", title: "Chapter 5 · Flow matching and latent models", options: options,
        trainings: [
            ("plane flow", 0.03), ("flow U-Net", 0.33), ("diffusion U-Net", 0.33),
            ("reflow", 0.15), ("VAE", 0.13), ("latent flow", 0.03),
        ], main: "flow U-Net")
    var rng = RandomGenerator(seed: options.seed)

    /*:
     ## 5.1 · Straight paths from data to noise

     Take a data point $x_0$ and a noise vector $\epsilon \sim \mathcal N(0, I)$, and join them by a
     straight line, walked from data at $t = 0$ to noise at $t = 1$:

     $$x_t = (1 - t)\thinspace x_0 + t\thinspace \epsilon, \qquad \frac{d x_t}{dt} = \epsilon - x_0 .$$

     Every point moves at constant velocity $\epsilon - x_0$. If we knew, at every place $x$ and time
     $t$, the average velocity of all the lines passing there,
     $v(x, t) = \mathbb E[\epsilon - x_0 \mid x_t = x]$, we could start from fresh noise at $t = 1$
     and follow the ODE $dx/dt = v(x, t)$ backwards to $t = 0$: this *marginal* velocity field moves
     the whole noise distribution onto the data distribution, because at each time it moves the
     density exactly as the lines, on average, do.

     We cannot compute that average, but we can learn it. A network $v_\theta$ regressed on the
     velocity of single lines,

     $$L(\theta) = \mathbb E_{t \sim U(0,1),\ x_0,\ \epsilon}\thinspace \big\lVert v_\theta(x_t, t) - (\epsilon - x_0)\big\rVert^2 ,$$

     is pulled, at each $(x, t)$, towards the mean of the targets that occur there — and the minimiser
     of a squared error is the conditional mean, $v(x, t)$ itself. The loss is as plain as the
     diffusion model's noise regression; `FlowMatching.interpolated` and `FlowMatching.velocity`
     compute $x_t$ and the target.

     First in the plane: eight Gaussian blobs on a circle, and a small network (`VelocityMLP`: the
     point beside sinusoidal features of $t$, three hidden layers of 128 units).
     */
    let plane = ToyDistribution.eightGaussians.sample(20_000, using: &rng)  // [N, 2]
    let planeModel = VelocityMLP(dimension: 2, width: 128, depth: 3, using: &rng)
    let planeOptimizer = Adam(planeModel.parameters, learningRate: 1e-3)
    let planeSteps = options.choose(quick: 200, standard: 3000, full: 10_000)
    var planeHistory: [String: [Double]] = [:]

    /// The flow-matching loss of `predictor` on the pairs (`data`, `noise`) at times t ~ U(0, 1):
    /// the mean squared error of v_θ(x_t, t) against ε − x₀.
    func flowMatchingLoss(
        _ predictor: VelocityPredictor, data: Tensor, noise: Tensor, labels: [Int]? = nil,
        using rng: inout RandomGenerator
    ) -> Tensor {
        let times = (0..<data.shape[0]).map { _ in rng.nextUniform() }
        let xt = FlowMatching.interpolated(data, noise: noise, times: times)  // (1 − t)x₀ + tε
        return mseLoss(predictor(xt, times, labels), FlowMatching.velocity(from: data, to: noise))
    }

    /// One step of `optimizer` down `loss`, then one of `average` if there is one; `loss` is recorded
    /// in `history` and returned for the progress bar, under `name`.
    /// (`nonisolated`, so that the training closures below may call it.)
    nonisolated func descend(
        _ loss: Tensor, _ optimizer: Adam, average: ExponentialMovingAverage? = nil,
        history: inout [String: [Double]], as name: String = "loss"
    ) -> [(String, Double)] {
        optimizer.zeroGrad()
        loss.backward()
        optimizer.step()
        average?.update()
        history[name, default: []].append(loss.item)
        return [(name, loss.item)]
    }

    try notebook.train(
        "plane flow",
        Checkpoint(models: [("flow", planeModel)], optimizers: [("flow", planeOptimizer)]),
        file: "plane-flow.safetensors", plan: TrainingPlan(epochs: 1, stepsPerEpoch: planeSteps),
        label: { _ in "plane flow" }, generator: &rng, series: &planeHistory
    ) { _, rng, history in
        let data = plane.gatheringRows((0..<256).map { _ in rng.nextInt(below: plane.shape[0]) })
        let loss = flowMatchingLoss(
            planeModel.predictor, data: data, noise: Tensor.randomNormal(data.shape, using: &rng),
            using: &rng)
        return descend(loss, planeOptimizer, history: &history)
    }
    planeModel.eval()

    /*:
     The learned field at three times, drawn as the step $-h\thinspace v_\theta(x, t)$ a sampler would
     take from each point of a grid ($h = 0.15$). Near $t = 1$ the points are almost pure noise and
     the field pulls everything gently towards the middle of the data; by $t = 0.1$ it has split the
     plane into eight basins, one per blob.
     */
    let planeData = PointSet(
        name: "data", tensor: plane.slice(0..<1500, alongAxis: 0), color: "#bbbbbb", radius: 1.5)
    let gridSide = 17
    let extent = 3.2
    let gridPoints = (0..<(gridSide * gridSide)).map { index -> [Double] in
        [
            -extent + 2 * extent * Double(index % gridSide) / Double(gridSide - 1),
            -extent + 2 * extent * Double(index / gridSide) / Double(gridSide - 1),
        ]
    }
    let grid = Tensor(gridPoints.flatMap { $0 }, shape: [gridPoints.count, 2], dtype: .float32)
    for t in [0.9, 0.5, 0.1] {
        let velocity = withoutGradients {
            planeModel(grid, times: [Double](repeating: t, count: gridPoints.count))
        }.doubles
        let arrows = gridPoints.indices.map { i in
            (
                x: gridPoints[i][0], y: gridPoints[i][1], dx: -0.15 * velocity[2 * i],
                dy: -0.15 * velocity[2 * i + 1]
            )
        }
        try notebook.figure(
            "field-t\(Int(t * 10))",
            svg: ScatterPlot(
                title: "The learned velocity at t = \(t)", xLabel: "x₁", yLabel: "x₂",
                sets: [planeData],
                arrows: [ArrowSet(name: "−0.15 · v(x, t)", arrows: arrows, color: "#1f77b4")],
                equalAspect: true, width: 420, height: 420
            ).svg(),
            caption: "The field at t = \(t): where a step of the sampler moves each point")
    }

    /*:
     Following the field from noise: Euler's method with 40 steps,
     $x_{t-h} = x_t - h\thinspace v_\theta(x_t, t)$ with $h = 1/40$. Each path starts at a noise
     point (its first point) and ends on a blob. The paths bend: a point that starts between two
     blobs is first pulled towards the middle by the average of many lines, and only late in the
     journey learns which blob is its own.
     */
    let planeNoise = Tensor.randomNormal([48, 2], using: &rng)
    /// The points a sampler visits from `noise`, as paths for a plot.
    func paths(
        _ predictor: VelocityPredictor, from noise: Tensor, steps: Int
    ) -> (paths: [[(x: Double, y: Double)]], end: Tensor) {
        var visited = [noise.doubles]
        let end = FlowMatching.sample(from: noise, sampler: .euler(steps: steps), predictor: predictor)
        { visited.append($0.x.doubles) }
        let paths = (0..<noise.shape[0]).map { i in visited.map { (x: $0[2 * i], y: $0[2 * i + 1]) } }
        return (paths, end)
    }
    let planePaths = paths(planeModel.predictor, from: planeNoise, steps: 40)
    try notebook.figure(
        "trajectories",
        svg: ScatterPlot(
            title: "Paths of the ODE from noise to data", xLabel: "x₁", yLabel: "x₂",
            sets: [
                planeData,
                PointSet(name: "start (noise)", tensor: planeNoise, color: "#1f77b4", radius: 2.5),
                PointSet(name: "end (sample)", tensor: planePaths.end, color: "#d62728", radius: 2.5),
            ],
            paths: [PathSet(name: "Euler, 40 steps", paths: planePaths.paths, color: "#ff7f0e")],
            equalAspect: true, width: 480, height: 480
        ).svg(),
        caption: "48 paths of the learned ODE, from noise (blue) to samples (red)")

    /*:
     ## 5.2 · The same quantity as noise and score

     One prediction, three readings. On the path $x_t = (1 - t)\thinspace x_0 + t\thinspace \epsilon$,
     a velocity guess $\hat v = \hat\epsilon - \hat x_0$ together with $x_t$ fixes both ends:

     $$\hat x_0 = x_t - t\thinspace \hat v, \qquad \hat\epsilon = x_t + (1 - t)\thinspace \hat v .$$

     $\hat\epsilon$ is what chapter 4's network predicts. And for a Gaussian path like this one,
     Tweedie's formula ties the expected noise to the *score*, the gradient of the log-density of the
     noised data, through the noise's scale $\sigma_t = t$:

     $$\hat\epsilon = -\sigma_t\thinspace \nabla_x \log p_t(x) \qquad\text{so}\qquad \nabla_x \log p_t(x) = -\frac{x + (1 - t)\thinspace \hat v}{t} .$$

     (`FlowMatching.predictedData`, `predictedNoise` and `score`.) With a score one can sample
     without the ODE, by *Langevin dynamics*: $x \leftarrow x + \tfrac{\eta}{2}\nabla \log p(x) + \sqrt\eta\thinspace z$, $z \sim \mathcal N(0, I)$,
     which for small steps $\eta$ and many of them draws from $p$. The score of the data itself is
     useless far from the data, so we anneal: twenty steps at each of ten noise levels $t$ from 0.8
     down to 0.05, with $\eta = 0.5\thinspace t^2$ (each step's noise about 0.7 of the level's), and
     from the last level one step to the predicted data $\hat x_0 = x - t\thinspace \hat v$ — without it the
     samples would be those of $p_{0.05}$: shrunk by $1 - t$ and blurred by $t\thinspace \epsilon$.
     */
    let langevinLevels = (0..<10).map { 0.8 * Foundation.pow(0.05 / 0.8, Double($0) / 9) }
    var langevin = Tensor.randomNormal([1500, 2], using: &rng)
    for t in langevinLevels {
        let times = [Double](repeating: t, count: langevin.shape[0])
        let eta = 0.5 * t * t
        for _ in 0..<20 {
            let velocity = withoutGradients { planeModel(langevin, times: times) }
            let score = FlowMatching.score(langevin, velocity: velocity, times: times)
            langevin =
                langevin + score * (eta / 2) + Tensor.randomNormal(langevin.shape, using: &rng)
                * eta.squareRoot()
        }
    }
    let lastTimes = [Double](repeating: langevinLevels.last!, count: langevin.shape[0])
    langevin = FlowMatching.predictedData(
        langevin, velocity: withoutGradients { planeModel(langevin, times: lastTimes) },
        times: lastTimes)
    let odeSamples = FlowMatching.sample(
        from: Tensor.randomNormal([1500, 2], using: &rng), sampler: .heun(steps: 20),
        predictor: planeModel.predictor)
    /// The share of `points` within three standard deviations (0.3) of one of the eight centres.
    func shareOnBlobs(_ points: Tensor) -> Double {
        let values = points.doubles
        let near = (0..<points.shape[0]).filter { i in
            ToyDistribution.eightGaussianCenters.contains { c in
                (values[2 * i] - c.x) * (values[2 * i] - c.x) + (values[2 * i + 1] - c.y)
                    * (values[2 * i + 1] - c.y) < 0.09
            }
        }
        return Double(near.count) / Double(points.shape[0])
    }
    try notebook.figure(
        "langevin",
        svg: ScatterPlot(
            title: "Two samplers, one network", xLabel: "x₁", yLabel: "x₂",
            sets: [
                planeData,
                PointSet(
                    name: "ODE (Heun, 20 steps)", tensor: odeSamples, color: "#1f77b4", radius: 1.5),
                PointSet(
                    name: "annealed Langevin (201 evaluations)", tensor: langevin, color: "#d62728",
                    radius: 1.5),
            ],
            equalAspect: true, width: 480, height: 480
        ).svg(),
        caption: "Samples of the ODE and of Langevin dynamics on the score read from "
            + "the same velocity network"
    )
    notebook.table(
        ["points", "within 0.3 of a blob's centre"],
        [
            [
                "data",
                String(format: "%.1f%%", 100 * shareOnBlobs(plane.slice(0..<1500, alongAxis: 0))),
            ],
            [
                "ODE, Heun 20 steps (39 network evaluations)",
                String(format: "%.1f%%", 100 * shareOnBlobs(odeSamples)),
            ],
            [
                "annealed Langevin, 200 steps and x̂₀ (201 network evaluations)",
                String(format: "%.1f%%", 100 * shareOnBlobs(langevin)),
            ],
        ])

    /*:
     Both samplers use the same network. Langevin needs five times the evaluations here, and its
     result depends on a schedule of levels and step sizes that must be tuned; the ODE is
     deterministic and, as the next sections show, needs only a few steps when its paths are
     nearly straight.

     ## 5.3 · Images: the U-Net as a velocity network

     Fashion-MNIST at 28×28 in $[-1, 1]$, and chapter 4's U-Net, unchanged except for its input
     time: the flow's $t \in [0, 1]$ is stretched to $1000\thinspace t$ before the sinusoidal
     embedding, whose frequencies were chosen for diffusion steps up to 1000 (`FlowUNet`). Like
     chapter 4, it takes a class label, replaced by "no class" one time in five so that the same
     network can be guided, and we sample with an exponential moving average of its weights.

     For a fair comparison a diffusion model is trained beside it: the same U-Net and width, the same
     batches, optimiser, averaging and number of steps, with chapter 4's noise-prediction loss on the
     linear schedule.
     */
    let training = try FashionMNIST.load(
        .train, limit: options.choose(quick: 2048, standard: nil, full: nil))
    let width = options.choose(quick: 8, standard: 16, full: 32)
    let classCount = 10
    let noClass = 10
    let labelDropout = 0.2
    let batchSize = 64
    let loader = DataLoader(
        training, batchSize: batchSize, shuffle: true, dropLast: true, seed: options.seed)
    let imageSteps =
        options.epochs.map { $0 * loader.batchCount }
        ?? options.choose(quick: 32, standard: 600, full: 10 * loader.batchCount)
    let averageDecay = options.choose(quick: 0.9, standard: 0.995, full: 0.999)
    let flowModel = FlowUNet(
        width: width, classCount: classCount, sampler: .heun(steps: 8), using: &rng)
    let diffusion = GaussianDiffusion(schedule: .linear())
    let diffusionModel = TinyUNet(
        width: width, classCount: classCount, schedule: diffusion.schedule.recipe,
        sampler: .ddim(steps: 16), using: &rng)
    notebook.show(
        "two U-Nets of widths \(width), \(2 * width), \(4 * width), "
            + "\(flowModel.parameterCount) parameters each; "
            + "\(imageSteps) steps of \(batchSize) images for each")

    /// Trains `model` for the chapter's image steps on `loss(batch, labels with some dropped, rng)`,
    /// with Adam and a weight average, checkpointed in `file`.
    /// (`nonisolated`, so that the closures it hands on may hold its arguments.)
    nonisolated func trainImageModel(
        _ name: String, _ model: Module, file: String,
        loss: @escaping (_ images: Tensor, _ labels: [Int], _ rng: inout RandomGenerator) -> Tensor
    )
        throws -> (average: ExponentialMovingAverage, outcome: TrainingOutcome)
    {
        let optimizer = Adam(model.parameters, learningRate: 1e-3)
        let average = ExponentialMovingAverage(model.parameters, decay: averageDecay)
        var history: [String: [Double]] = [:]
        let outcome = try notebook.train(
            name,
            Checkpoint(
                models: [("unet", model)], optimizers: [("unet", optimizer)],
                averages: [("unet", average)]),
            file: file, plan: TrainingPlan(epochs: 1, stepsPerEpoch: imageSteps),
            label: { _ in name }, generator: &rng, series: &history
        ) { step, rng, history in
            let batch = loader.batch(
                step.batch % loader.batchCount, ofEpoch: step.batch / loader.batchCount)
            let labels = batch.labels.map { rng.nextUniform() < labelDropout ? noClass : $0 }
            return descend(
                loss(batch.images, labels, &rng), optimizer, average: average, history: &history)
        }
        model.eval()
        return (average, outcome)
    }
    let (flowAverage, flowTraining) = try trainImageModel(
        "flow U-Net", flowModel, file: "flow.safetensors"
    ) { images, labels, rng in
        flowMatchingLoss(
            flowModel.predictor, data: images, noise: Tensor.randomNormal(images.shape, using: &rng),
            labels: labels, using: &rng)
    }
    let (diffusionAverage, _) = try trainImageModel(
        "diffusion U-Net", diffusionModel, file: "diffusion.safetensors"
    ) { images, labels, rng in
        let steps = (0..<images.shape[0]).map { _ in rng.nextInt(below: diffusion.schedule.stepCount) }
        let noise = Tensor.randomNormal(images.shape, using: &rng)
        return mseLoss(
            diffusionModel(
                diffusion.noised(images, steps: steps, noise: noise), timesteps: steps, labels: labels),
            noise)
    }

    /*:
     ## 5.4 · Steps against quality: Euler, Heun and DDIM

     Euler's method errs by a term proportional to its step $h$; **Heun's** method (a second-order
     Runge–Kutta step) takes the Euler step to $x'$, evaluates the velocity there too, and redoes the
     step with the average of the two velocities:
     $x_{t-h} = x_t - \tfrac h2\big(v_\theta(x_t, t) + v_\theta(x', t - h)\big)$, error proportional to
     $h^2$. It costs two network evaluations per step — except the last, onto the data, which stays an
     Euler step as in Karras et al.'s sampler (at $t = 0$ the velocity need not be defined away from
     the data). So $n$ Heun steps cost $2n - 1$ evaluations, and the fair axis is evaluations, not steps.

     DDIM is the same kind of method. Divide chapter 4's $x_t$ by $\sqrt{\bar\alpha_t}$ and measure
     time by the noise-to-signal ratio $\sigma = \sqrt{(1 - \bar\alpha_t)/\bar\alpha_t}$: then
     $y = x_t/\sqrt{\bar\alpha_t} = x_0 + \sigma\thinspace \epsilon$ is again a straight path, with velocity $dy/d\sigma = \epsilon$,
     and a DDIM step from $t$ to $s$ (without clipping $\hat x_0$) is exactly $y_s = y_t + (\sigma_s - \sigma_t)\thinspace \hat\epsilon$ — one Euler step of
     that ODE (the *probability-flow* ODE of the diffusion model; `DiffusionTests` checks the identity). What differs is the path: a
     straight line in time $\sigma$, which runs from 0 to about 157 on the linear schedule, against a
     straight line in $t \in [0, 1]$.

     FID-FMNIST (chapter 2) of the same noise through each sampler, unconditional, with precision and
     recall (chapter 2) beside it.
     */
    let evaluator = try Evaluator.standard()
    let scoredCount = options.choose(quick: 64, standard: 500, full: 2000)
    let floorScore = try evaluator.floor(sampleCount: scoredCount, seed: options.seed)
    let scoringNoise = Tensor.randomNormal([scoredCount, 1, 28, 28], using: &rng)

    /// Images from `draw(noise, labels, advance)` for `scoringNoise`, in batches of 250, with a
    /// progress bar that `advance()` moves by one sampler step; returns them and the seconds taken.
    /// (`nonisolated`, so that the closures it hands on may hold its arguments.)
    nonisolated func drawn(
        _ label: String, steps: Int, labels: [Int]? = nil,
        _ draw: (_ noise: Tensor, _ labels: [Int]?, _ advance: @escaping () -> Void) -> Tensor
    ) -> (images: Tensor, seconds: Double) {
        let progress = notebook.progress("\(label), \(scoredCount) images", total: scoredCount * steps)
        let start = Date()
        let batches = stride(from: 0, to: scoredCount, by: 250).map { first in
            let range = first..<min(scoredCount, first + 250)
            return draw(scoringNoise.slice(range, alongAxis: 0), labels.map { Array($0[range]) }) {
                progress.advance(range.count)
            }
        }
        progress.finish()
        return (Tensor.concatenate(batches, alongAxis: 0), Date().timeIntervalSince(start))
    }
    /// Flow samples with `sampler`, guided by `guidance` when there are labels.
    /// (`nonisolated`, so that the closures it hands on may hold its arguments.)
    nonisolated func flowSamples(
        _ model: FlowUNet, _ average: ExponentialMovingAverage, _ sampler: FlowMatching.Sampler,
        labels: [Int]? = nil, guidance: Double = 0
    ) -> (images: Tensor, seconds: Double) {
        drawn(
            "\(sampler)\(labels == nil ? "" : ", w = \(guidance)")", steps: sampler.steps,
            labels: labels
        ) { noise, labels, advance in
            average.withAveragedWeights {
                FlowMatching.sample(
                    from: noise, sampler: sampler, labels: labels,
                    predictor: FlowMatching.guided(model.predictor, scale: guidance, nullLabel: noClass)
                ) { _ in advance() }
            }
        }
    }
    let ddimPredictor: NoisePredictor = { x, steps, labels in
        diffusionModel(
            x, timesteps: steps, labels: labels ?? [Int](repeating: noClass, count: x.shape[0]))
    }

    var samplerRows: [[String]] = []
    var byEvaluations: [String: [(x: Double, y: Double)]] = [:]
    var bySteps: [String: [(x: Double, y: Double)]] = [:]
    let stepCounts = options.choose(
        quick: [2], standard: [1, 2, 4, 8, 16], full: [1, 2, 4, 8, 16, 32])
    for steps in stepCounts {
        var results: [(family: String, name: String, evaluations: Int, images: Tensor)] = []
        for (family, sampler) in [
            ("Euler (flow)", FlowMatching.Sampler.euler(steps: steps)),
            ("Heun (flow)", .heun(steps: steps)),
        ] {
            results.append(
                (
                    family, sampler.description, sampler.networkEvaluations,
                    flowSamples(flowModel, flowAverage, sampler).images
                ))
        }
        let ddim = drawn("DDIM-\(steps)", steps: steps) { noise, _, advance in
            diffusionAverage.withAveragedWeights {
                diffusion.sample(
                    from: noise, sampler: .ddim(steps: steps), using: &rng, predictor: ddimPredictor
                ) { _ in advance() }
            }
        }
        results.append(("DDIM (diffusion)", "DDIM-\(steps)", steps, ddim.images))
        for result in results {
            let score = try evaluator.score(result.images)
            let shares = try evaluator.precisionRecall(of: result.images, seed: options.seed)
            samplerRows.append([
                result.name, "\(steps)", "\(result.evaluations)", score.formattedFID,
                shares.formattedPrecision, shares.formattedRecall,
            ])
            byEvaluations[result.family, default: []].append((Double(result.evaluations), score.fid))
            bySteps[result.family, default: []].append((Double(steps), score.fid))
            notebook.record(metric: "\(result.name) FID-FMNIST", score.fid)
        }
    }
    samplerRows.append(["real training images (floor)", "–", "–", floorScore.formattedFID, "", ""])
    notebook.table(
        [
            "sampler", "steps", "network evaluations", "FID-FMNIST (\(scoredCount))", "precision",
            "recall",
        ], samplerRows)
    let families = ["Euler (flow)", "Heun (flow)", "DDIM (diffusion)"]
    try notebook.figure(
        "fid-vs-evaluations",
        svg: LineChart(
            title: "Quality against cost", xLabel: "network evaluations per image (log scale)",
            yLabel: "FID-FMNIST",
            logX: true, logY: true,
            series: families.map { PlotSeries(name: $0, points: byEvaluations[$0] ?? []) }
        ).svg(),
        caption: "FID-FMNIST against network evaluations, the same noise for every sampler")
    try notebook.figure(
        "fid-vs-steps",
        svg: LineChart(
            title: "Quality against steps", xLabel: "steps (log scale)", yLabel: "FID-FMNIST",
            logX: true, logY: true,
            series: families.map { PlotSeries(name: $0, points: bySteps[$0] ?? []) }
        ).svg(),
        caption: "The same scores against steps: a Heun step costs two evaluations")

    /*:
     Read the two charts together: per step, Heun's second evaluation buys accuracy; per evaluation,
     the first chart shows whether it pays. With one or two steps no sampler does well: a straight
     jump cannot carry noise to a garment along paths that bend.

     ## 5.5 · Asking for a class

     Classifier-free guidance works on velocities as on noise: the three readings are affine in one
     another at a given $t$, so extrapolating the velocity,
     $\tilde v = (1 + w)\thinspace v_\theta(x, t, y) - w\thinspace v_\theta(x, t, \varnothing)$, extrapolates the noise and
     the score the same way (`FlowMatching.guided`). One row per class, the same noise in every row,
     Heun with 8 steps and $w = 2$; then the sweep over $w$.
     */
    let rowNoise = Tensor.randomNormal([10, 1, 28, 28], using: &rng)
    let rowLabels = (0..<classCount).flatMap { [Int](repeating: $0, count: 10) }
    let classGrid = flowAverage.withAveragedWeights {
        FlowMatching.sample(
            from: Tensor.concatenate([Tensor](repeating: rowNoise, count: classCount), alongAxis: 0),
            sampler: .heun(steps: 8), labels: rowLabels,
            predictor: FlowMatching.guided(flowModel.predictor, scale: 2, nullLabel: noClass))
    }
    try notebook.figure(
        "classes",
        Bitmap(
            grid: classGrid, range: .minusOneToOne, columns: 10, scale: 2,
            rowLabels: FashionMNIST.classNames),
        caption: "One row per requested class (Heun, 8 steps, guidance w = 2)")
    let sweepLabels = (0..<scoredCount).map { $0 % classCount }
    var guidanceRows: [[String]] = []
    for w in options.choose(quick: [2.0], standard: [0.0, 1, 3], full: [0.0, 1, 2, 4]) {
        let images = flowSamples(
            flowModel, flowAverage, .heun(steps: 8), labels: sweepLabels, guidance: w
        ).images
        let score = try evaluator.score(images)
        let shares = try evaluator.precisionRecall(of: images, seed: options.seed)
        let agreement = try evaluator.labelAgreement(images, labels: sweepLabels)
        guidanceRows.append([
            String(w), score.formattedFID, shares.formattedPrecision, shares.formattedRecall,
            String(format: "%.0f%%", 100 * agreement),
        ])
        notebook.record(metric: "guidance \(w) FID-FMNIST", score.fid)
    }
    notebook.table(
        [
            "guidance w", "FID-FMNIST (\(scoredCount))", "precision", "recall",
            "classifier agrees with the label",
        ],
        guidanceRows)

    /*:
     ## 5.6 · Straighter paths: reflow

     The paths bend because the lines of training cross: the pairs $(x_0, \epsilon)$ were drawn
     independently, so lines from far-apart images to nearby noises intersect, and the field must
     average them. Liu et al.'s *reflow* removes the crossings: draw noise, run the trained ODE to get
     the image it leads to, and train again on those pairs. Paths of an ODE never cross, so the new
     lines do not either, and the new field can follow them straight — ideally, one Euler step then
     lands where many did before.

     Straightness is measured on Euler paths of 16 steps from fresh noise, as the mean over steps of
     $\lVert(\epsilon - \hat x_0) - v\rVert^2$ per pixel: the gap between each step's velocity and the straight line
     from the path's start to its end, zero for a straight path walked at constant speed. The default
     run makes a small version — a few thousand pairs, a short fine-tuning of the trained network,
     unconditional — and `--full` a larger one.
     */
    let pairCount = options.choose(quick: 64, standard: 2000, full: 10_000)
    let pairSampler = FlowMatching.Sampler.heun(steps: 8)
    let pairNoise = Tensor.randomNormal([pairCount, 1, 28, 28], using: &rng)
    let pairProgress = notebook.progress(
        "pairs for reflow, \(pairSampler)", total: pairCount * pairSampler.steps)
    let pairImages = Tensor.concatenate(
        stride(from: 0, to: pairCount, by: 250).map { first in
            let range = first..<min(pairCount, first + 250)
            return flowAverage.withAveragedWeights {
                FlowMatching.sample(
                    from: pairNoise.slice(range, alongAxis: 0), sampler: pairSampler,
                    predictor: flowModel.predictor
                ) { _ in
                    pairProgress.advance(range.count)
                }
            }
        }, alongAxis: 0)
    pairProgress.finish()
    // The reflowed network starts from the trained one's averaged weights.
    let reflowModel = FlowUNet(
        width: width, classCount: classCount, sampler: .euler(steps: 4), using: &rng)
    flowAverage.withAveragedWeights {
        for (target, source) in zip(reflowModel.parameters, flowModel.parameters) {
            target.assign(source)
        }
    }
    let reflowOptimizer = Adam(reflowModel.parameters, learningRate: 2e-4)
    let reflowAverage = ExponentialMovingAverage(reflowModel.parameters, decay: averageDecay)
    var reflowHistory: [String: [Double]] = [:]
    let reflowSteps = options.choose(quick: 16, standard: 300, full: 3000)
    try notebook.train(
        "reflow",
        Checkpoint(
            models: [("unet", reflowModel)], optimizers: [("unet", reflowOptimizer)],
            averages: [("unet", reflowAverage)]),
        file: "reflow.safetensors", plan: TrainingPlan(epochs: 1, stepsPerEpoch: reflowSteps),
        label: { _ in "reflow" }, generator: &rng, series: &reflowHistory
    ) { _, rng, history in
        let picked = (0..<batchSize).map { _ in rng.nextInt(below: pairCount) }
        /// The picked pairs' images or noises, `[B, 1, 28, 28]`.
        func rows(_ all: Tensor) -> Tensor {
            all.reshaped([pairCount, -1]).gatheringRows(picked).reshaped([batchSize, 1, 28, 28])
        }
        let loss = flowMatchingLoss(
            reflowModel.predictor, data: rows(pairImages), noise: rows(pairNoise),
            labels: [Int](repeating: noClass, count: batchSize), using: &rng)
        return descend(loss, reflowOptimizer, average: reflowAverage, history: &history)
    }
    reflowModel.eval()

    let straightnessNoise = Tensor.randomNormal(
        [options.choose(quick: 16, standard: 250, full: 500), 1, 28, 28], using: &rng)
    func straightness(_ model: FlowUNet, _ average: ExponentialMovingAverage) -> Double {
        average.withAveragedWeights {
            FlowMatching.straightness(
                from: straightnessNoise, sampler: .euler(steps: 16), predictor: model.predictor
            ).straightness
        }
    }
    var reflowRows: [[String]] = [
        [
            "straightness (Euler, 16 steps)",
            String(format: "%.4f", straightness(flowModel, flowAverage)),
            String(format: "%.4f", straightness(reflowModel, reflowAverage)),
        ]
    ]
    var fewStepGrids: [Tensor] = []
    for steps in [1, 2, 4] {
        let before = flowSamples(flowModel, flowAverage, .euler(steps: steps)).images
        let after = flowSamples(reflowModel, reflowAverage, .euler(steps: steps)).images
        let (beforeScore, afterScore) = (try evaluator.score(before), try evaluator.score(after))
        reflowRows.append([
            "FID-FMNIST, Euler \(steps) step\(steps == 1 ? "" : "s") (\(scoredCount))",
            beforeScore.formattedFID, afterScore.formattedFID,
        ])
        notebook.record(metric: "reflow Euler-\(steps) FID-FMNIST", afterScore.fid)
        fewStepGrids += [before.slice(0..<8, alongAxis: 0), after.slice(0..<8, alongAxis: 0)]
    }
    notebook.table(["", "flow", "after one reflow"], reflowRows)
    try notebook.figure(
        "reflow",
        Bitmap(
            grid: Tensor.concatenate(fewStepGrids, alongAxis: 0), range: .minusOneToOne,
            columns: 8, scale: 2,
            rowLabels: ["1 STEP", "1, REFLOW", "2 STEPS", "2, REFLOW", "4 STEPS", "4, REFLOW"]),
        caption: "The same noise in 1, 2 and 4 Euler steps, before and after reflow")

    /*:
     Reflow trades some of the model's fidelity (its pairs are its own samples, errors included) for
     straighter paths. A round as small as the default run's shows the direction of the trade more
     than its size: `--full` trains on five times the pairs for ten times the steps. Distilling a
     reflowed model further, into a single step, is how the fastest image generators sample.

     ## 5.7 · A flow in a latent space

     Images have many pixels, and every step of the sampler runs the network over all of them. An
     autoencoder can first compress each image into a short code; a flow model over the codes is then
     small and fast, and the decoder turns its samples into images. This is the design of *latent*
     diffusion and flow models (Rombach et al., 2022), the reason large generators can afford high
     resolution: their networks work on a grid 8 times smaller on each side.

     Here: a VAE as in chapter 3 (on 32×32 images, 16 latent numbers), trained briefly; the encoder's
     means of the training images, divided by their spread so that they have the noise's scale, as
     data; and a `VelocityMLP` (three layers of 256) on those 16 numbers. `LatentFlow` keeps the
     three together, so `Sample` can draw from its checkpoint.
     */
    let padded = try FashionMNIST.load(
        .train, padding: 2, limit: options.choose(quick: 2048, standard: nil, full: nil))
    let autoencoder = VariationalAutoencoder(latentCount: 16, using: &rng)
    let autoencoderOptimizer = Adam(autoencoder.parameters, learningRate: 1e-3)
    let vaeLoader = DataLoader(
        padded, batchSize: 128, shuffle: true, dropLast: true, seed: options.seed)
    let vaeEpochs = options.choose(quick: 1, standard: 2, full: 10)
    let spread = 0.3  // the decoder's s, as in chapter 3
    var vaeHistory: [String: [Double]] = [:]
    try notebook.train(
        "VAE", Checkpoint(models: [("vae", autoencoder)], optimizers: [("vae", autoencoderOptimizer)]),
        file: "vae.safetensors",
        plan: TrainingPlan(epochs: vaeEpochs, stepsPerEpoch: vaeLoader.batchCount),
        label: { "VAE, epoch \($0 + 1)/\(vaeEpochs)" }, generator: &rng, series: &vaeHistory
    ) { step, rng, history in
        let x = vaeLoader.batch(step.batch, ofEpoch: step.epoch).images
        let (mean, logVariance) = autoencoder.encode(x)
        let z = VariationalAutoencoder.reparameterize(mean: mean, logVariance: logVariance, using: &rng)
        // ‖x − x̂‖²/2s² + KL, per image.
        let loss =
            mseLoss(autoencoder.decode(z), x, reduction: .sum)
            * (1 / (2 * spread * spread * Double(x.shape[0])))
            + gaussianKLDivergence(mean: mean, logVariance: logVariance)
        return descend(loss, autoencoderOptimizer, history: &history, as: "−ELBO")
    }
    autoencoder.eval()
    let means = Tensor.concatenate(
        stride(from: 0, to: padded.count, by: 1000).map { first in
            withoutGradients {
                autoencoder.encode(
                    padded.images.slice(first..<min(padded.count, first + 1000), alongAxis: 0)
                ).mean
            }
        }, alongAxis: 0)  // [N, 16]
    let latentScale = ((means * means).mean().item - means.mean().item * means.mean().item).squareRoot()
    let codes = means * (1 / latentScale)  // the flow's data
    let latentModel = LatentFlow(
        autoencoder: autoencoder, flow: VelocityMLP(dimension: 16, width: 256, depth: 3, using: &rng),
        latentScale: latentScale)
    notebook.show(
        "\(codes.shape[0]) codes of 16 numbers, "
            + "spread \(String(format: "%.3f", latentScale)) before scaling; "
            + "the velocity network has \(latentModel.flow.parameterCount) parameters, "
            + "the U-Net \(flowModel.parameterCount)")
    let latentOptimizer = Adam(latentModel.flow.parameters, learningRate: 1e-3)
    let latentAverage = ExponentialMovingAverage(latentModel.parameters, decay: averageDecay)
    var latentHistory: [String: [Double]] = [:]
    let latentSteps = options.choose(quick: 100, standard: 4000, full: 20_000)
    let latentTraining = try notebook.train(
        "latent flow",
        Checkpoint(
            models: [("latent-flow", latentModel)], optimizers: [("latent-flow", latentOptimizer)],
            averages: [("latent-flow", latentAverage)]),
        file: "latent-flow.safetensors", plan: TrainingPlan(epochs: 1, stepsPerEpoch: latentSteps),
        label: { _ in "latent flow" }, generator: &rng, series: &latentHistory
    ) { _, rng, history in
        let data = codes.gatheringRows((0..<256).map { _ in rng.nextInt(below: codes.shape[0]) })
        let loss = flowMatchingLoss(
            latentModel.flow.predictor, data: data, noise: Tensor.randomNormal(data.shape, using: &rng),
            using: &rng)
        return descend(loss, latentOptimizer, average: latentAverage, history: &history)
    }
    latentModel.eval()

    let latentSampler = FlowMatching.Sampler.heun(steps: 8)
    let latentStart = Date()
    let latentImages = latentAverage.withAveragedWeights {
        latentModel.decode(
            FlowMatching.sample(
                from: Tensor.randomNormal([scoredCount, 16], using: &rng), sampler: latentSampler,
                predictor: latentModel.flow.predictor))
    }
    let latentSeconds = Date().timeIntervalSince(latentStart)
    let pixelImages = flowSamples(flowModel, flowAverage, latentSampler)
    let vaeImages = withoutGradients {
        autoencoder.decode(Tensor.randomNormal([scoredCount, 16], using: &rng))
    }
    /// Minutes or seconds of a training, as it was measured.
    func duration(_ outcome: TrainingOutcome) -> String {
        outcome.seconds.map {
            $0 < 90 ? String(format: "%.0f s", $0) : String(format: "%.1f min", $0 / 60)
        } ?? "–"
    }
    var latentRows: [[String]] = []
    let latentContenders: [(String, Tensor, Int, String, Double?)] = [
        (
            "flow on pixels (U-Net), \(latentSampler)", pixelImages.images, flowModel.parameterCount,
            duration(flowTraining),
            pixelImages.seconds
        ),
        (
            "flow on VAE codes (MLP), \(latentSampler)", latentImages, latentModel.flow.parameterCount,
            duration(latentTraining), latentSeconds
        ),
        ("the VAE alone, codes from N(0, I)", vaeImages, autoencoder.parameterCount, "–", nil),
    ]
    for (name, images, parameters, trainingTime, seconds) in latentContenders {
        let score = try evaluator.score(images)
        let shares = try evaluator.precisionRecall(of: images, seed: options.seed)
        latentRows.append([
            name, "\(parameters)", trainingTime,
            seconds.map { String(format: "%.2f s", $0 * 64 / Double(scoredCount)) } ?? "–",
            score.formattedFID, shares.formattedPrecision, shares.formattedRecall,
        ])
        notebook.record(metric: "\(name) FID-FMNIST", score.fid)
    }
    notebook.table(
        [
            "model", "parameters", "training", "64 images", "FID-FMNIST (\(scoredCount))", "precision",
            "recall",
        ], latentRows)
    let framedPixels = pixelImages.images.slice(0..<10, alongAxis: 0).padded(
        [(0, 0), (0, 0), (2, 2), (2, 2)], value: -1)
    try notebook.figure(
        "latent-samples",
        Bitmap(
            grid: Tensor.concatenate(
                [
                    framedPixels, latentImages.slice(0..<10, alongAxis: 0),
                    vaeImages.slice(0..<10, alongAxis: 0),
                ], alongAxis: 0),
            range: .minusOneToOne, columns: 10, scale: 2,
            rowLabels: ["PIXELS", "LATENT", "VAE"]),
        caption: "Samples of the pixel flow, the latent flow (decoded) and the VAE's own prior")

    /*:
     The latent model's network works on 16 numbers where the U-Net works on 784 pixels: for each
     evaluation it computes a small fraction of what the U-Net computes, so it trains on codes
     computed once and samples far faster (the column of 64 images). Its samples can be no better
     than the decoder can draw, which is why latent generators spend so much care on the
     autoencoder. The last row decodes noise directly, as chapter 3 sampled: the VAE's prior
     $\mathcal N(0, I)$ is not where the encoder puts the training images, and the flow is trained
     on where it does put them.

     ## 5.8 · Summary

     Flow matching regresses a network on the velocity of straight lines from data to noise and
     samples by integrating the learned field backwards; its prediction is the diffusion model's
     noise and score in another unit, so guidance, Langevin sampling and DDIM all carry over.
     Second-order solvers and straighter paths (reflow) buy quality per network evaluation; a latent
     space buys it per pixel. The next chapter puts every family side by side.
     */
    try notebook.finish()
} catch {
    Notebook.exit(dueTo: error)
}
