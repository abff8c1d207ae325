/*:
 # Chapter 6 · The three families in practice

 Three chapters built three kinds of image generator for the same images, and a fourth the
 diffusion model's younger relatives. This one sets them side by side (section 4 of the source as
 a whole) and then puts them to the work the source's introduction names: *editing* images through
 a latent space, filling in missing parts (*inpainting*), and *super-resolution*.

 It uses the models the earlier chapters trained, from their checkpoints under `output/`. A model
 that is missing is trained first by its chapter, on a budget this chapter states before it starts
 (7 minutes in each of two lanes unless `--minutes` says otherwise). The run prints how long each
 part takes on your machine: `swift run -c release Practice`. `--quick` is a smoke test that trains
 three tiny models of its own.
 */
import ArgumentParser
import Datasets
import Evaluation
import Foundation
import GenerativeModels
import ImageIO
import NeuralNetworks
import Notebook

/// Errors gathered from the training lanes, which run on threads of their own.
final class LockedList: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []
    func append(_ item: String) { lock.withLock { stored.append(item) } }
    var items: [String] { lock.withLock { stored } }
}

/// Trains a chapter's main model by running the chapter's executable, built beside this one, with
/// `--train-only`.
struct ChapterTrainer: Sendable {
    let directory: URL
    /// The mode, seed and thread flags every training gets.
    let arguments: [String]
    /// Where the chapters' output folders are.
    let root: URL

    /// Runs `executable` writing into `folder` under the root, on `minutes` of training when given;
    /// its output goes to `relay` line by line.
    func train(_ executable: String, folder: String, minutes: Double?,
               relay: (String) -> Void) throws {
        let process = Process()
        process.executableURL = directory.appendingPathComponent(executable)
        process.arguments = arguments + ["--out", root.appendingPathComponent(folder).path]
            + (minutes.map { ["--minutes", String(format: "%.2f", $0)] } ?? [])
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        var pending = Data()
        while case let data = pipe.fileHandleForReading.availableData, !data.isEmpty {
            pending += data
            while let end = pending.firstIndex(of: UInt8(ascii: "\n")) {
                relay(String(decoding: pending[pending.startIndex..<end], as: UTF8.self))
                pending = Data(pending[(end + 1)...])
            }
        }
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ChapterError("\(executable) stopped with status \(process.terminationStatus); "
                + "run `swift run -c release \(executable)` to see why")
        }
    }
}

struct PracticeOptions: ParsableArguments {
    @OptionGroup var run: RunOptions

    @Option(help: ArgumentHelp(
        "Where the earlier chapters keep their runs "
            + "(default: output, or a folder of its own with --quick).",
        valueName: "folder"))
    var checkpoints: String?
}
do {
    let parsed = PracticeOptions.parseChapterOrExit()
    let options = parsed.run
    let notebook = try Notebook(
        chapter: "06-Practice", title: "Chapter 6 · The three families in practice",
        options: options)
    var rng = RandomGenerator(seed: options.seed)

    /*:
     ## 6.1 · The three models

     Each chapter left its trained model in a checkpoint: the DCGAN's generator with its averaged
     weights (chapter 2), the VAE (chapter 3), and for the diffusion family chapter 5's flow U-Net,
     with its averaged weights too. That is chapter 4's U-Net trained on straight paths from data to
     noise, $x_t = (1 - t)\thinspace x_0 + t\thinspace\epsilon$: a Gaussian diffusion model in all but
     its schedule and the quantity it predicts, and in chapter 5's comparison the one of the two that
     got further in the same number of steps. Each checkpoint also records which model it holds and
     the configuration that built it (widths, latent size, classes), so `SavedGenerator` rebuilds
     that network and loads the weights into it — the same loader behind the `Sample` tool
     (`swift run -c release Sample --checkpoint output/05-Flow/flow.safetensors`).
     */
    /// A chapter whose trained model this chapter uses; when the model has to be trained first,
    /// the lane it trains in and its share of that lane's budget.
    struct SourceChapter: Sendable {
        let executable: String, folder: String, checkpoint: String, lane: Int, share: Double
    }
    let sources = [
        SourceChapter(executable: "GAN", folder: "02-GAN",
                      checkpoint: "dcgan.safetensors", lane: 0, share: 0.35),
        SourceChapter(executable: "VAE", folder: "03-VAE",
                      checkpoint: "vae.safetensors", lane: 0, share: 0.65),
        SourceChapter(executable: "Flow", folder: "05-Flow",
                      checkpoint: "flow.safetensors", lane: 1, share: 1),
    ]
    let defaultRoot = options.mode == .quick
        ? notebook.outputDirectory.appendingPathComponent("chapters").path : "output"
    let checkpointRoot = URL(fileURLWithPath: parsed.checkpoints ?? defaultRoot, isDirectory: true)

    /*:
     A missing model is trained first, by its own chapter: `--train-only` runs the chapter's training
     of its main model and stops (chapter 5 trains its small 2-D flow on the way, in seconds). The
     trainings run in two lanes side by side — the GAN and then the VAE in one, the flow U-Net in
     the other — each lane with half the cores. On two cores that does more work in the same time
     than one training after another on both: a step of these small networks keeps two threads busy
     only part of the time (on a 2-core Intel Xeon of the Emerald Rapids generation, two threads
     trained them 1.7–1.9 times as fast as one, the GAN least). In the default
     mode each lane trains for `--minutes` (7 unless told otherwise), shared among its models, so
     that a first run ends within minutes; a model that finishes its steps early leaves the minutes
     it did not use to the next one in its lane. The chapters themselves, run in full, train longer
     and score better. `--quick` trains tiny versions; `--full` runs the chapters' full trainings,
     which take hours.
     */
    let missing = sources.filter {
        !FileManager.default.fileExists(
            atPath: checkpointRoot.appendingPathComponent("\($0.folder)/\($0.checkpoint)").path)
    }
    if !missing.isEmpty {
        let lanes = Dictionary(grouping: missing, by: \.lane).sorted { $0.key < $1.key }.map(\.value)
        let laneMinutes = options.minutes ?? (options.mode == .standard ? 7 : nil)
        let threads = max(1, Parallel.threadCount / lanes.count)
        /// The minutes of each model in `lane`: the lane's budget in proportion to the shares.
        func budgets(_ lane: [SourceChapter]) -> [Double?] {
            lane.map { chapter in
                laneMinutes.map { $0 * chapter.share / lane.map(\.share).reduce(0, +) }
            }
        }
        let plan = lanes.map { lane in
            zip(lane, budgets(lane)).map { chapter, minutes in
                "\(chapter.executable)" + (minutes.map { String(format: " %.1f min", $0) } ?? "")
            }.joined(separator: laneMinutes == nil ? " then " : " then, with what it leaves, ")
        }
        notebook.show("no checkpoint of " + missing.map(\.executable).joined(separator: ", ")
                      + " in \(checkpointRoot.relativePath); training "
                      + plan.joined(separator: ", beside it ")
                      + ", \(threads) thread\(threads == 1 ? "" : "s") each"
                      + (options.mode == .quick ? ", quick versions" : "")
                      + (options.mode == .full ? ", the chapters' full trainings (hours)" : ""))
        let jobs = lanes.map { lane in Array(zip(lane, budgets(lane))) }
        let modeFlag = options.mode == .quick ? "--quick" : options.mode == .full ? "--full" : nil
        let trainer = ChapterTrainer(
            directory: URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
            arguments: [modeFlag].compactMap { $0 }
                + ["--train-only", "--seed", String(options.seed), "--threads", String(threads)],
            root: checkpointRoot)
        let printing = NSLock()
        let failures = LockedList()
        DispatchQueue.concurrentPerform(iterations: jobs.count) { index in
            // A model that trains for less than its budget (it finished its steps) leaves the
            // rest of its minutes to the next model in its lane.
            var unusedMinutes = 0.0
            for (chapter, minutes) in jobs[index] {
                let budget = minutes.map { $0 + unusedMinutes }
                do {
                    try trainer.train(chapter.executable, folder: chapter.folder,
                                      minutes: budget) { line in
                        // The training's own lines (budget, estimate, progress, outcome) and errors,
                        // not the chapter's previews.
                        guard ["steps to train", " steps of ", "in the checkpoint", "budget",
                               "█", "··", "Error"].contains(where: line.contains)
                        else { return }
                        let name = chapter.executable.padding(toLength: 9, withPad: " ", startingAt: 0)
                        let text = "  \(name)│ \(line)\n"
                        printing.withLock { FileHandle.standardOutput.write(Data(text.utf8)) }
                    }
                } catch {
                    failures.append("\(error)")
                    return
                }
                let checkpoint = checkpointRoot.appendingPathComponent(
                    "\(chapter.folder)/\(chapter.checkpoint)")
                if let budget, let trained = TrainingRecord.read(for: checkpoint)?.seconds {
                    unusedMinutes = max(0, budget - trained / 60)
                }
            }
        }
        if let failure = failures.items.first { throw ChapterError(failure) }
    }

    var models: [(name: String, model: SavedGenerator, trainingSeconds: Double?)] = []
    for chapter in sources {
        let url = checkpointRoot.appendingPathComponent("\(chapter.folder)/\(chapter.checkpoint)")
        models.append((chapter.executable, try SavedGenerator.load(from: url),
                       TrainingRecord.read(for: url)?.seconds))
        notebook.show("\(chapter.executable): \(models.last!.model.summary), from \(url.relativePath)")
    }
    /*:
     Chapter 4's diffusion model and chapter 5's latent flow join the comparison when their
     checkpoints are there; they are not trained here.
     */
    var optionalModels: [(name: String, model: SavedGenerator, trainingSeconds: Double?)] = []
    for (name, executable, folder, file) in [
        ("Diffusion", "Diffusion", "04-Diffusion", "diffusion.safetensors"),
        ("Latent flow", "Flow", "05-Flow", "latent-flow.safetensors"),
    ] {
        let url = checkpointRoot.appendingPathComponent("\(folder)/\(file)")
        guard FileManager.default.fileExists(atPath: url.path) else {
            notebook.show("no \(url.relativePath): `swift run -c release \(executable)` trains it, "
                          + "and it joins the table")
            continue
        }
        optionalModels.append((name, try SavedGenerator.load(from: url),
                               TrainingRecord.read(for: url)?.seconds))
        notebook.show("\(name): \(optionalModels.last!.model.summary), from \(url.relativePath)")
    }
    let (gan, vae, flow) = (models[0].model, models[1].model, models[2].model)
    guard case .gan(let ganGenerator) = gan, case .vae(let autoencoder) = vae,
          case .flow(let flowNetwork) = flow else {
        throw ChapterError(
            "the checkpoints do not hold a GAN, a VAE and a flow model in that order")
    }

    /*:
     ## 6.2 · Side by side

     The same questions for each: how big is the network that draws the images, how long did it
     train, how long does it take to draw 64 images, and how good are they — FID-FMNIST of the same
     number of samples (with the floor of that many real images), how many of the ten classes they
     cover, and the two shares of chapter 2 that tell realism from variety: precision, the share of
     samples that lie among real images in the classifier's feature space, and recall, the share of
     real images that lie among the samples. The flow and diffusion models are sampled as their
     checkpoints say (chapter 5 chose Heun in 8 steps, chapter 4 DDIM in 50), once without a class
     and once asked for the ten classes in equal numbers with guidance at the scale its chapter's
     sweep scored best ($w = 1$ for the flow, $w = 3$ for the diffusion model) — rows that use the
     labels, which the GAN and VAE rows do not (their chapters have class-conditional versions too).
     Images from the GAN and VAE are 32×32 (Fashion-MNIST padded by two pixels of background), the
     U-Nets' 28×28; the classifier behind the score frames 28×28 images the same way.
     */
    let evaluator = try Evaluator.standard()
    let scoredCount = options.choose(quick: 64, standard: 1000, full: 5000)
    let floorScore = try evaluator.floor(sampleCount: scoredCount, seed: options.seed)
    let floorShares = try evaluator.precisionRecall(
        of: Evaluator.realTrainingImages(count: scoredCount, seed: options.seed), seed: options.seed)

    /// Draws `count` images from `model` in batches of 250 with a progress bar; returns them and the
    /// seconds taken. With `guidance`, the classes come in equal numbers and are guided with scale w.
    /// (`nonisolated`, so that the closures it hands the sampler may hold its arguments.)
    nonisolated func draw(_ model: SavedGenerator, name: String, count: Int, guidance: Double? = nil)
              throws -> (images: Tensor, seconds: Double) {
        let passes = model.samplingSteps
        let progress = notebook.progress("\(name), \(count) images", total: count * passes)
        let start = Date()
        let batches = try stride(from: 0, to: count, by: 250).map { first in
            let range = first..<min(count, first + 250)
            let labels = guidance.map { _ in range.map { $0 % 10 } }
            return try model.sample(count: range.count, labels: labels, guidance: guidance ?? 0,
                                    using: &rng) { _ in progress.advance(range.count) }
        }
        if passes == 1 { progress.advance(count) }
        progress.finish()
        return (Tensor.concatenate(batches, alongAxis: 0), Date().timeIntervalSince(start))
    }

    let judgement = [
        "GAN": ("sharp images from one network pass",
                "no likelihood, no encoder; training can collapse or diverge"),
        "VAE": ("an encoder, a smooth latent space and a likelihood bound",
                "blurry samples: the decoder averages what it cannot predict"),
        "Flow": ("stable training, one network for many tasks, a few ODE steps per image",
                 "still several network passes per image"),
        "Flow, guided": ("images that look like their class",
                         "needs labels; less variety as w grows"),
        "Diffusion": ("a likelihood bound; the noise-predicting original of the flow",
                      "tens to a thousand network passes per image"),
        "Diffusion, guided": ("images that look like their class",
                              "needs labels; less variety as w grows"),
        "Latent flow": ("a small, fast network on 16 numbers per image",
                        "no sharper than its autoencoder's decoder"),
    ]
    /// The guidance scale whose FID-FMNIST was lowest in each family's chapter.
    let guidanceScales = ["Flow": 1.0, "Diffusion": 3.0]
    let contenders = (models + optionalModels).flatMap { name, model, seconds in
        [(name, model, seconds, nil as Double?)]
            + (guidanceScales[name].map { [("\(name), guided", model, seconds, $0)] } ?? [])
    }
    var comparisonRows: [[String]] = []
    var sideBySide: [Bitmap] = []
    for (name, model, trainingSeconds, guidance) in contenders {
        let timing = try draw(model, name: name, count: 64, guidance: guidance)
        let scored = try draw(model, name: name, count: scoredCount, guidance: guidance)
        let score = try evaluator.score(scored.images)
        let shares = try evaluator.precisionRecall(of: scored.images, seed: options.seed)
        let trainingTime = trainingSeconds.map {
            $0 < 90 ? String(format: "%.0f s", $0) : String(format: "%.1f min", $0 / 60)
        } ?? "–"
        comparisonRows.append([name, "\(model.parameterCount)", trainingTime,
                               String(format: "%.3f s", timing.seconds),
                               score.formattedFID, score.coverage.formattedCount,
                               shares.formattedPrecision, shares.formattedRecall,
                               judgement[name]!.0, judgement[name]!.1])
        notebook.record(metric: "\(name) FID-FMNIST", score.fid)
        notebook.record(metric: "\(name) precision", shares.precision)
        notebook.record(metric: "\(name) recall", shares.recall)
        let framed = timing.images.shape[2] == 28
            ? timing.images.padded([(0, 0), (0, 0), (2, 2), (2, 2)], value: -1) : timing.images
        // The first 36 of them, six by six, so that two models fit side by side on a page.
        sideBySide.append(Bitmap(grid: framed.slice(0..<36, alongAxis: 0), range: .minusOneToOne,
                                 columns: 6, padding: 1))
    }
    comparisonRows.append(["real images (floor)", "–", "–", "–", floorScore.formattedFID,
                           floorScore.coverage.formattedCount, floorShares.formattedPrecision,
                           floorShares.formattedRecall, "", ""])
    notebook.table(["model", "parameters", "training", "64 images", "FID-FMNIST (\(scoredCount))",
                    "classes", "precision", "recall", "good at", "weak at"], comparisonRows)
    try notebook.figure(
        "side-by-side",
        Bitmap(tiling: sideBySide, columns: 2, padding: 8, scale: 2,
               captions: contenders.map { name, model, _, guidance in
                   (name + (model.defaultSampler.map { " (\($0))" } ?? "")
                       + (guidance.map { String(format: ", w = %g", $0) } ?? "")).uppercased()
               }),
        caption: "36 of the 64 samples timed from each model; the guided ones are asked for the "
            + "classes in turn")

    /*:
     Read the table with the training budgets in mind: the default runs gave each model minutes,
     not the days such models get elsewhere. The GAN makes the most of its minutes: one pass per
     image, crisp images of every kind. The VAE too draws in one pass and covers every class, but
     its Gaussian decoder blurs, and the score sees it. The flow model costs the most per training
     step and needs many network passes per image (the diffusion model, with its fifty DDIM steps,
     more still), and without a class its samples are the roughest here: a network that must give
     the velocity at every time needs more than a few hundred steps, and it learned its
     unconditional field from only the fifth of the batches whose labels were dropped. Asked for
     classes with guidance, the same network's score falls several-fold. That is the pattern of the
     field in small: diffusion-family models cost more and scale best, and guidance is much of what
     makes them good.

     ## 6.3 · Editing in a latent space

     The simplest edit is a walk: decode the points on the straight line between two latent codes.
     The VAE can start from real images, because its encoder gives their codes; the GAN has no
     encoder, so its walks start from two random latent vectors. Two rows each, VAE first: if the
     model has organised its latent space well, every point on the way is a garment, and the change is
     gradual.
     */
    let test = try FashionMNIST.load(
        .test, padding: 2, limit: options.choose(quick: 1000, standard: nil, full: nil))
    let (testCodes, _) = withoutGradients { autoencoder.encode(test.images) }  // [N, d]
    /// Eight evenly spaced points from `start` to `end` (each `[1, d]`), `[8, d]`.
    func walk(_ start: Tensor, _ end: Tensor) -> Tensor {
        let points = (0..<8).map { (step: Int) -> Tensor in
            let t = Double(step) / 7
            return start * (1 - t) + end * t
        }
        return Tensor.concatenate(points, alongAxis: 0)
    }
    /// The code of the first test image of class `label`.
    func code(ofFirst label: Int) -> Tensor {
        let index = test.labels.firstIndex(of: label)!
        return testCodes.slice(index..<(index + 1), alongAxis: 0)
    }
    let ganLatentCount = ganGenerator.latentCount
    let ganEnds = Tensor.randomNormal([4, ganLatentCount], using: &rng)
    let walks = withoutGradients {
        [autoencoder.decode(walk(code(ofFirst: 0), code(ofFirst: 1))),
         autoencoder.decode(walk(code(ofFirst: 7), code(ofFirst: 8)))]
            + [0, 2].map { first in
                ganGenerator(walk(ganEnds.slice(first..<(first + 1), alongAxis: 0),
                                  ganEnds.slice((first + 1)..<(first + 2), alongAxis: 0))
                    .reshaped([8, ganLatentCount, 1, 1]))
            }
    }
    try notebook.figure(
        "interpolation",
        Bitmap(grid: Tensor.concatenate(walks, alongAxis: 0), range: .minusOneToOne,
               columns: 8, scale: 2, rowLabels: ["VAE", "VAE", "GAN", "GAN"]),
        caption: "Straight walks in latent space: VAE from a T-shirt to trousers and from a sneaker "
            + "to a bag; GAN between random points")

    /*:
     Walks go somewhere; directions say *where to*. The VAE's encoder lets us find directions from data: encode the test images, average the codes of each class, and
     the difference of two class means, $\Delta = \bar z_{\text{target}} - \bar z_{\text{source}}$, is a
     direction "from one kind of garment to the other". Adding $\alpha\Delta$ to the code of one image
     and decoding edits that image. Each row: the test image, its reconstruction, then $\alpha$ = 0.25,
     0.5, 0.75, 1, 1.25.
     */
    /// The mean latent code of each class, `[10, d]`.
    func classMeans(_ codes: Tensor, labels: [Int]) -> Tensor {
        let oneHot = Tensor.oneHot(labels, classes: 10, dtype: codes.dtype)  // [N, 10]
        return oneHot.transposed().matmul(codes)
            / oneHot.sum(alongAxes: [0]).clamped(min: 1).reshaped([10, 1])
    }
    let vaeMeans = classMeans(testCodes, labels: test.labels)
    let edits = [(0, 2), (7, 9), (1, 3)]  // T-shirt → pullover, sneaker → ankle boot, trouser → dress
    let alphas = [0.25, 0.5, 0.75, 1, 1.25]
    var vaeEditRows: [Tensor] = []
    for (source, target) in edits {
        let index = test.labels.firstIndex(of: source)!
        let code = testCodes.slice(index..<(index + 1), alongAxis: 0)
        let direction = vaeMeans.slice(target..<(target + 1), alongAxis: 0)
            - vaeMeans.slice(source..<(source + 1), alongAxis: 0)
        let codes = Tensor.concatenate([code] + alphas.map { code + direction * $0 }, alongAxis: 0)
        vaeEditRows += [test.images.slice(index..<(index + 1), alongAxis: 0),
                        withoutGradients { autoencoder.decode(codes) }]
    }
    let editLabels = edits.map {
        "\(FashionMNIST.classNames[$0.0]) TO \(FashionMNIST.classNames[$0.1])"
    }
    try notebook.figure(
        "vae-editing",
        Bitmap(grid: Tensor.concatenate(vaeEditRows, alongAxis: 0), range: .minusOneToOne,
               columns: 7, scale: 2, rowLabels: editLabels),
        caption: "Moving VAE codes along class-mean directions: "
            + "T-shirt → pullover, sneaker → ankle boot, trouser → dress")

    /*:
     The GAN has no encoder, but the same idea works from the other side: draw many latent vectors,
     let the classifier of chapter 2 say what each generated image is, and average the vectors per
     predicted class. Rows as before, starting from a generated image of the source class.
     */
    let probeCount = options.choose(quick: 500, standard: 5000, full: 10_000)
    let probes = Tensor.randomNormal([probeCount, ganLatentCount], using: &rng)
    let probeClasses = try evaluator.classify(withoutGradients {
        ganGenerator(probes.reshaped([probeCount, ganLatentCount, 1, 1]))
    })
    let ganMeans = classMeans(probes, labels: probeClasses)
    var ganEditRows: [Tensor] = []
    for (source, target) in edits {
        guard let index = probeClasses.firstIndex(of: source), probeClasses.contains(target)
        else { continue }
        let code = probes.slice(index..<(index + 1), alongAxis: 0)
        let direction = ganMeans.slice(target..<(target + 1), alongAxis: 0)
            - ganMeans.slice(source..<(source + 1), alongAxis: 0)
        let codes = Tensor.concatenate([code] + alphas.map { code + direction * $0 }, alongAxis: 0)
        ganEditRows.append(withoutGradients {
            ganGenerator(codes.reshaped([codes.shape[0], ganLatentCount, 1, 1]))
        })
    }
    if !ganEditRows.isEmpty {
        try notebook.figure(
            "gan-editing",
            Bitmap(grid: Tensor.concatenate(ganEditRows, alongAxis: 0), range: .minusOneToOne,
                   columns: 6, scale: 2),
            caption: "Moving GAN latents along class-mean directions (first column α = 0)")
    }

    /*:
     ## 6.4 · Inpainting with the flow model

     Hide part of a test image and ask the model to fill it in. The flow model was never trained
     for this, but its sampler can be steered: run the ODE from noise $\epsilon$ as usual, in many
     small Euler steps, and after every step overwrite the pixels we know with the point that the
     real image's own straight line to the same noise has reached,
     $x_t \leftarrow m \odot \big((1 - t)\thinspace x_0 + t\thinspace\epsilon\big) + (1 - m) \odot x_t$
     ($m$ = 1 where known). At every step the network sees the known part where a path to this image
     would be, and moves the hole to match it. (This is the simplest form of the idea; RePaint, for
     diffusion models, improves the seams by going back and forth a few steps.)

     For comparison, the VAE. Encoding the masked image and decoding it only reproduces the hole —
     the VAE learned to give back what it sees. So it gets the same kind of help: start with the hole
     filled with background, then twenty times decode, put back the known pixels, and encode again;
     the known part pulls the code toward images that agree with it. Rows: the original, the masked
     input, the VAE's fill, the flow model's fill.
     */
    let paintCount = options.choose(quick: 4, standard: 8, full: 8)
    let originals = test.images.slice(100..<(100 + paintCount), alongAxis: 0)
        .slice(2..<30, alongAxis: 2).slice(2..<30, alongAxis: 3)  // [n, 1, 28, 28]
    /// 1 where the pixel is known: everything but the middle 14×14 square.
    let knownValues = (0..<(28 * 28)).map { index -> Double in
        (7..<21).contains(index / 28) && (7..<21).contains(index % 28) ? 0 : 1
    }
    let known = Tensor(knownValues, shape: [1, 1, 28, 28], dtype: .float32)
    let masked = originals * known + (1 - known) * -1  // the hole shown as background
    var vaeInpainted = masked
    for _ in 0..<20 {
        let decoded = withoutGradients {
            let padded = vaeInpainted.padded([(0, 0), (0, 0), (2, 2), (2, 2)], value: -1)
            return autoencoder.decode(autoencoder.encode(padded).mean)
        }
        vaeInpainted = originals * known
            + decoded.slice(2..<30, alongAxis: 2).slice(2..<30, alongAxis: 3) * (1 - known)
    }
    let steeredSampler = FlowMatching.Sampler.euler(
        steps: options.choose(quick: 10, standard: 100, full: 100))
    /// The flow's ODE from noise ε that, after every step, lets `impose(x, reference at t)` correct the
    /// sample with the point (1 − t)·reference + t·ε that the reference's own path has reached.
    /// (`nonisolated`, so that the closures it hands the sampler may hold its arguments.)
    nonisolated func sample(_ task: String, imposing reference: Tensor,
                _ impose: @escaping (_ x: Tensor, _ reference: Tensor) -> Tensor) -> Tensor {
        let progress = notebook.progress("\(task), \(steeredSampler)", total: steeredSampler.steps)
        defer { progress.finish() }
        let noise = Tensor.randomNormal(reference.shape, using: &rng)
        return FlowMatching.sample(
            from: noise, sampler: steeredSampler, predictor: flowNetwork.predictor,
            observe: { _ in progress.advance() },
            constrain: { x, t in
                let times = [Double](repeating: t, count: reference.shape[0])
                return impose(x, FlowMatching.interpolated(reference, noise: noise, times: times))
            })
    }
    let flowInpainted = sample("inpainting", imposing: originals) { x, level in
        level * known + x * (1 - known)
    }
    /// Mean squared error inside the hole, per pixel, on the [−1, 1] scale.
    func holeError(_ filled: Tensor) -> Double {
        (((filled - originals) * (1 - known)) * ((filled - originals) * (1 - known))).sum().item
            / (Double(paintCount) * 14 * 14)
    }
    let inpaintingRows = [originals, masked, vaeInpainted, flowInpainted]
    try notebook.figure(
        "inpainting",
        Bitmap(grid: Tensor.concatenate(inpaintingRows, alongAxis: 0), range: .minusOneToOne,
               columns: paintCount, scale: 2),
        caption: "Rows: original, masked, filled by the VAE, filled by the flow model")
    notebook.table(["fill", "mean squared error in the hole (pixels in [−1, 1])"],
                   [["VAE, decode and re-encode 20 times",
                     String(format: "%.3f", holeError(vaeInpainted))],
                    ["flow, replacement after every step",
                     String(format: "%.3f", holeError(flowInpainted))]])

    /*:
     The two errors are close, and an error against the hidden truth is a rough judge here in any
     case: many fills are plausible, and a model that commits to one sharp fill (a different collar,
     a different print) is penalised wherever it differs from the truth, while a blurry average is
     penalised less. Judge with your eyes as well: the VAE's fills are smooth and often too dark,
     because a code that explains the visible pixels need not say much about the hidden ones; the
     flow model's fills continue the garment's edges and texture into the hole.

     ## 6.5 · Super-resolution: 14×14 → 28×28

     Shrink each test image by averaging 2×2 blocks, then try to recover the original. Classic
     interpolation spreads the known values: *nearest* repeats each pixel, *bilinear* blends the four
     nearest. The flow model can do better than spread: run the sampler, and after every step
     replace the low-frequency part of $x$ with that of the low-resolution image at the same time
     (Choi et al.'s ILVR, devised for diffusion models). With $\phi$ = average down then repeat up,
     $x \leftarrow x - \phi(x) + \phi(y_t)$, where $y_t = (1 - t)\thinspace y + t\thinspace\epsilon$ is the
     upscaled low-resolution image $y$ on its path to the sample's starting noise. The final image
     averages down to *exactly* the low-resolution input, while the network supplies the detail that
     is consistent with it.
     */
    let lowResolution = originals.avgPool2d(kernel: 2)  // [n, 1, 14, 14]
    let nearest = lowResolution.upsampledNearest(scale: 2)
    /// Bilinear 2× upscaling as PyTorch's `interpolate(mode: "bilinear", align_corners: False)`:
    /// output pixel i samples the input at (i + 0.5)/2 − 0.5, clamped to the edge.
    func bilinearUpscaled(_ images: Tensor) -> Tensor {
        let (count, size) = (images.shape[0], images.shape[2])
        let values = images.doubles
        var output = [Double](repeating: 0, count: count * 4 * size * size)
        func source(_ index: Int) -> (Int, Int, Double) {
            let position = max(0, (Double(index) + 0.5) / 2 - 0.5)
            let low = min(Int(position), size - 1)
            return (low, min(low + 1, size - 1), position - Double(low))
        }
        for image in 0..<count {
            for y in 0..<(2 * size) {
                let (y0, y1, wy) = source(y)
                for x in 0..<(2 * size) {
                    let (x0, x1, wx) = source(x)
                    let base = image * size * size
                    let top = values[base + y0 * size + x0] * (1 - wx)
                        + values[base + y0 * size + x1] * wx
                    let bottom = values[base + y1 * size + x0] * (1 - wx)
                        + values[base + y1 * size + x1] * wx
                    output[image * 4 * size * size + y * 2 * size + x] = top * (1 - wy) + bottom * wy
                }
            }
        }
        return Tensor(output, shape: [count, 1, 2 * size, 2 * size], dtype: images.dtype)
    }
    let bilinear = bilinearUpscaled(lowResolution)
    /// Average down then repeat up: the part of an image the low resolution sees.
    func lowPass(_ x: Tensor) -> Tensor { x.avgPool2d(kernel: 2).upsampledNearest(scale: 2) }
    let superResolved = sample("super-resolution", imposing: nearest) { x, level in
        x - lowPass(x) + lowPass(level)
    }
    /// Peak signal-to-noise ratio against the originals, with pixels mapped to [0, 1]
    /// (higher is better).
    func psnr(_ images: Tensor) -> Double {
        let meanSquare = ((images - originals) * (images - originals)).mean().item / 4
        return 10 * Foundation.log10(1 / meanSquare)
    }
    let consistency = ((superResolved.avgPool2d(kernel: 2) - lowResolution).abs()).max().item
    let superResolutionRows = [originals, nearest, bilinear, superResolved]
    try notebook.figure(
        "super-resolution",
        Bitmap(grid: Tensor.concatenate(superResolutionRows, alongAxis: 0), range: .minusOneToOne,
               columns: paintCount, scale: 2),
        caption: "Rows: original, nearest, bilinear, the flow model guided by the 14×14 image")
    notebook.table(["upscaling", "PSNR against the original (dB)"], [
        ["nearest", String(format: "%.2f", psnr(nearest))],
        ["bilinear", String(format: "%.2f", psnr(bilinear))],
        ["flow (ILVR)", String(format: "%.2f", psnr(superResolved))],
    ])
    notebook.show("the flow model's result averages down to the low-resolution input within "
        + "\(String(format: "%.1e", consistency))")
    notebook.record(metric: "super-resolution largest deviation from the low-resolution input",
                    consistency)
    notebook.record(metric: "super-resolution PSNR flow", psnr(superResolved))
    notebook.record(metric: "super-resolution PSNR bilinear", psnr(bilinear))

    /*:
     Nearest and bilinear upscaling cannot create detail, only spread it: the first gives blocks,
     the second blur. The guided flow model draws edges and prints that the 14×14 image only
     hints at. Pixel-wise scores like PSNR usually favour the safe, blurry average, so a sharp guess
     is not guaranteed to win on them; where its detail is right in kind but wrong in place, it
     loses. This is why image generation is judged with distribution scores like FID and with human
     eyes, not with pixel errors alone.

     ## 6.6 · What you have built, and where to go next

     From a tensor type and a tape of gradients you built and checked every layer, trained the three
     families that shaped image generation and the flow models that followed them, measured them on one scale, and used them for editing,
     inpainting and super-resolution. Everything ran on two CPU cores. The field went on from here:

     - **Latent models at scale** run chapter 5's idea with an autoencoder trained for sharp
       reconstructions (with a perceptual and an adversarial loss) and a large denoiser over its
       codes; this is how Stable Diffusion works.
     - **Distillation** turns a reflowed or consistency-trained model into one that samples in a
       single step.
     - **Transformer denoisers** (DiT) replace the U-Net with a transformer over image patches, and
       scale with compute more predictably.
     - **Guidance from text** swaps the class label of chapter 4 for the embedding of a sentence; the
       classifier-free guidance formula stays the same.
     - **Scaling up** means GPUs: the same code, in a library like PyTorch or JAX, on millions of images.

     Every one of these is a change of a few pieces of what you have already read.
     */
    try notebook.finish()
} catch {
    Notebook.exit(dueTo: error)
}
