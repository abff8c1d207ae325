// A libFuzzer target over every file reader of the library. `Scripts/fuzz` builds and runs it
// (with Tests/TestSupport/TinyTraining.swift, the run the checkpoint reader resumes); it is not
// part of the package, because libFuzzer supplies `main` and needs the libraries built with
// `-sanitize=fuzzer`.
//
// The reader is chosen by the environment: FUZZ_READER names it (see `readers`), FUZZ_SCRATCH is
// a folder for the files that the file-based readers are handed, and FUZZ_WRITE_SEEDS, if set,
// is a folder to fill with valid inputs for that reader (then the process exits).
//
// Each input goes through one reader. A thrown error is the right answer to a bad file; a trap,
// a memory error or an allocation past libFuzzer's limits is a crash, which libFuzzer reports
// and saves. Besides libFuzzer's mutations (bit flips, truncations, splices, the tokens of
// readers.dict), `customMutator` sets header fields to extreme values.

import CZlib
import Datasets
import Evaluation
import Foundation
import GenerativeModels
import ImageIO
import NeuralNetworks
import TensorCore

/// A reader: parses (and, where the library would, uses) one input.
struct Reader {
    /// Valid inputs to start mutating from.
    let seeds: () throws -> [Data]
    /// Reads `data`; throws what the library throws for a bad file.
    let read: (Data) throws -> Void
}

let environment = ProcessInfo.processInfo.environment
let scratch = URL(fileURLWithPath: environment["FUZZ_SCRATCH"] ?? NSTemporaryDirectory(), isDirectory: true)

/// `data` written to `name` in the scratch folder, for the readers that take a file.
func file(_ name: String, holding data: Data) throws -> URL {
    let url = scratch.appendingPathComponent(name)
    try data.write(to: url)
    return url
}

// MARK: - The readers

extension TinyTraining {
    /// Trains to `epochs` epochs with a checkpoint at `url`, resuming from it if `resume`:
    /// what a chapter's `--resume` does, one optimizer step an epoch.
    func train(epochs: Int, checkpoint url: URL, resume: Bool) throws {
        var generator = RandomGenerator(seed: 2), series: [String: [Double]] = [:]
        try checkpoint.runSteps(TrainingPlan(epochs: epochs, stepsPerEpoch: 1), checkpoint: url, resume: resume,
                                generator: &generator, series: &series) { _, rng, series in
            series["loss", default: []].append(step(using: &rng).doubles[0])
        }
    }
}

/// A safetensors file with `spaces` more spaces after its JSON header (JSON allows them): room for
/// ``setExtremeNumber(in:using:)`` to write a longer number and leave the header's length right.
func padded(_ safetensors: Data, spaces: Int = 64) -> Data {
    let bytes = [UInt8](safetensors)
    let length = bytes[0..<8].reversed().reduce(0) { $0 << 8 | Int($1) }
    let header = bytes[8..<(8 + length)] + [UInt8](repeating: UInt8(ascii: " "), count: spaces)
    return withUnsafeBytes(of: UInt64(header.count).littleEndian) { Data($0) } + Data(header) + Data(bytes[(8 + length)...])
}

/// The checkpoint files of every kind of generator ``SavedGenerator`` loads, small; the diffusion
/// and flow models keep the weight average they are drawn with.
func generatorCheckpoints() throws -> [Data] {
    var rng = RandomGenerator(seed: 3)
    let models: [(name: String, model: Module, averaged: Bool)] = [
        ("generator", DCGANGenerator(latentCount: 4, widths: [8, 4, 4], imageChannels: 1, using: &rng), false),
        ("generator", DCGANGenerator(latentCount: 4, widths: [4, 4, 4], imageChannels: 1, classCount: 3, using: &rng), false),
        ("vae", VariationalAutoencoder(imageChannels: 1, latentCount: 2, widths: [4, 4, 4], using: &rng), false),
        ("cvae", VariationalAutoencoder(imageChannels: 1, latentCount: 2, widths: [4, 4, 4], classCount: 3, using: &rng), false),
        ("unet", TinyUNet(width: 8, classCount: 2, using: &rng), true),
        ("flow", FlowUNet(width: 8, classCount: 2, using: &rng), true),
        ("latent-flow", LatentFlow(autoencoder: VariationalAutoencoder(imageChannels: 1, latentCount: 2, widths: [4, 4, 4], using: &rng),
                                   flow: VelocityMLP(dimension: 2, width: 8, depth: 2, classCount: 3, using: &rng), latentScale: 0.7), true),
    ]
    return try models.map { name, model, averaged in
        let url = scratch.appendingPathComponent("seed.safetensors")
        let averages = averaged ? [(name, ExponentialMovingAverage(model.parameters))] : []
        try Checkpoint(models: [(name, model)], averages: averages).save(to: url, generator: rng)
        return padded(try Data(contentsOf: url))
    }
}

extension SavedGenerator.Sampler {
    /// A one-step sampler of the same family (DDIM for diffusion, Euler for flows): a damaged
    /// model is drawn from through the same code, in one network pass.
    var oneStep: Self {
        switch self {
        case .ddpm, .ddim: return .ddim(steps: 1)
        case .euler, .heun: return .euler(steps: 1)
        }
    }
}

/// A classifier cache as `Evaluator.save` writes it, for a tiny classifier.
func classifierCache() throws -> Data {
    var rng = RandomGenerator(seed: 4)
    let configuration = ClassifierConfiguration(name: "fuzz", widths: [2, 2, 2], featureCount: 2, epochs: 1, trainingImages: nil,
                                                batchSize: 2, learningRate: 1e-3, mirrorImages: false, seed: 4)
    let classifier = FashionClassifier(widths: configuration.widths, featureCount: configuration.featureCount, using: &rng)
    let reference = GaussianStatistics(mean: [0.5, -0.5], covariance: SquareMatrix(size: 2, values: [1, 0.1, 0.1, 2]), count: 10_000)
    let url = scratch.appendingPathComponent("seed.safetensors")
    try Evaluator(classifier: classifier, configuration: configuration, testAccuracy: 0.9, reference: reference, trainingSeconds: 1.5)
        .save(to: url)
    return padded(try Data(contentsOf: url))
}

/// `count` Fashion-MNIST-shaped images of seeded random bytes, as an IDX array.
func idxImages(count: Int) -> IDXArray {
    var rng = RandomGenerator(seed: 5)
    return IDXArray(dimensions: [count, 28, 28], bytes: (0..<(count * 784)).map { _ in UInt8(rng.nextInt(below: 256)) })
}

let readers: [String: Reader] = [
    "png": Reader(
        seeds: {
            [try PNG.encode(Bitmap(width: 7, height: 5, channels: 1, pixels: (0..<35).map { UInt8($0 * 7) })),
             try PNG.encode(Bitmap(width: 6, height: 4, channels: 3, pixels: (0..<72).map { UInt8(($0 * 53 + 11) % 256) }))]
        },
        read: { _ = try PNG.decode($0, name: "fuzz.png") }),
    "gzip": Reader(
        seeds: { [Gzip.compress(Array("hello, gzip ".utf8) + [UInt8](repeating: 42, count: 300)), Gzip.compress([])] },
        read: { _ = try Gzip.decompress($0, name: "fuzz.gz") }),
    "idx": Reader(
        seeds: { [Data(IDX.encode(idxImages(count: 2))), Data(IDX.encode(IDXArray(dimensions: [5], bytes: [1, 2, 3, 4, 5])))] },
        read: { _ = try IDX.parse([UInt8]($0), name: "fuzz.idx") }),
    "idx-gz": Reader(
        seeds: { [Gzip.compress(IDX.encode(idxImages(count: 3)))] },
        read: { _ = try IDX.read(try file("fuzz-idx.gz", holding: $0)) }),
    "fashion-mnist": Reader(
        seeds: { [Gzip.compress(IDX.encode(idxImages(count: 10)))] },
        read: { data in
            let folder = scratch.appendingPathComponent("fashion-mnist", isDirectory: true)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let labels = IDXArray(dimensions: [10], bytes: (0..<10).map { UInt8($0) })
            try Gzip.compress(IDX.encode(labels)).write(to: folder.appendingPathComponent(FashionMNIST.Split.train.labelsFile))
            try data.write(to: folder.appendingPathComponent(FashionMNIST.Split.train.imagesFile))
            _ = try FashionMNIST.load(.train, from: folder, padding: 2)
        }),
    "npy": Reader(
        seeds: {
            [Tensor([1.5, -2, 3.25, 0, 1e-3, 7] as [Float], shape: [2, 3]).numpyData(),
             Tensor([0.1, 0.2], shape: [2]).numpyData(), Tensor.zeros([]).numpyData()]
        },
        read: { _ = try Tensor(numpyData: $0, name: "fuzz.npy") }),
    "safetensors": Reader(
        seeds: {
            let file = SafeTensors(tensors: [("weight", Tensor([1.5, -2, 0.25, 3] as [Float], shape: [2, 2])), ("bias", Tensor([0.1], shape: [1]))],
                                   metadata: ["step": "7"]).encoded()
            return [file, padded(file)]
        },
        read: { _ = try SafeTensors(data: $0, name: "fuzz.safetensors") }),
    "checkpoint": Reader(
        seeds: {
            let url = scratch.appendingPathComponent("seed.safetensors")
            try TinyTraining().train(epochs: 1, checkpoint: url, resume: false)
            return [padded(try Data(contentsOf: url))]
        },
        read: { try TinyTraining().train(epochs: 2, checkpoint: try file("fuzz-checkpoint.safetensors", holding: $0), resume: true) }),
    "saved-generator": Reader(
        seeds: generatorCheckpoints,
        read: { data in
            let model = try SavedGenerator.load(from: try file("fuzz-generator.safetensors", holding: data))
            var rng = RandomGenerator(seed: 6)
            _ = try model.sample(count: 1, labels: model.classCount > 0 ? [0] : nil, sampler: model.defaultSampler?.oneStep, using: &rng)
        }),
    "classifier": Reader(
        seeds: { [try classifierCache()] },
        read: { data in
            let evaluator = try Evaluator.load(from: try file("fuzz-classifier.safetensors", holding: data))
            _ = try evaluator.features(of: Tensor.zeros([2, 1, 32, 32]))
        }),
]

// MARK: - libFuzzer's entry points

/// The reader FUZZ_READER names; the process stops with the list of names if it names none.
let reader: Reader = {
    guard let name = environment["FUZZ_READER"], let reader = readers[name] else {
        FileHandle.standardError.write(Data("FUZZ_READER must be one of: \(readers.keys.sorted().joined(separator: ", "))\n".utf8))
        exit(2)
    }
    return reader
}()

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> CInt {
    Parallel.threadCount = 1                 // one input at a time, on one thread: a crash is that input's
    try? FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    if let folder = environment["FUZZ_WRITE_SEEDS"] {
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            for (index, seed) in try reader.seeds().enumerated() {
                try seed.write(to: URL(fileURLWithPath: folder).appendingPathComponent("seed-\(index)"))
            }
            exit(0)
        } catch {
            FileHandle.standardError.write(Data("writing the seeds failed: \(error)\n".utf8))
            exit(1)
        }
    }
    _ = reader
    return 0
}

/// libFuzzer's own mutation of `size` bytes at `data`, in place, to at most `maxSize`.
@_silgen_name("LLVMFuzzerMutate")
func libFuzzerMutate(_ data: UnsafeMutablePointer<UInt8>, _ size: Int, _ maxSize: Int) -> Int

/// Decimal numbers that once broke a reader, or sit on a limit: shapes, offsets and counts in
/// JSON, `.npy` headers and checkpoint metadata are written in decimal.
let extremeDecimals = ["4611686018427387904", "9223372036854775807", "-9223372036854775808", "18446744073709551615",
                       "9007199254740993", "4294967296", "2551020", "100000000", "-5", "-1", "0", "1e308"]
/// The same for binary fields (IDX and PNG sizes, gzip's length, safetensors' header length).
let extremeWords: [UInt64] = [0, 1, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 2_551_020, 1 << 62, UInt64(Int64.max), .max]

/// Sets one number in `bytes` to an extreme value: a run of decimal digits (with its minus sign),
/// or a 4- or 8-byte field in either byte order.
///
/// A longer number takes its extra bytes from the spaces after it, and a shorter one leaves
/// spaces: JSON and `.npy` headers are padded with spaces, and their length fields then still
/// hold, so the header is read and the number reaches the code that sizes things from it.
func setExtremeNumber(in bytes: inout [UInt8], using rng: inout RandomGenerator) {
    let isDigit = { (byte: UInt8) in (0x30...0x39).contains(byte) }
    let space = UInt8(ascii: " ")
    let runStarts = bytes.indices.filter { isDigit(bytes[$0]) && ($0 == 0 || !isDigit(bytes[$0 - 1])) }
    if !runStarts.isEmpty && rng.nextInt(below: 2) == 0 {
        var start = runStarts[rng.nextInt(below: runStarts.count)], end = start
        while end < bytes.count && isDigit(bytes[end]) { end += 1 }
        if start > 0 && bytes[start - 1] == UInt8(ascii: "-") { start -= 1 }
        let text = Array(extremeDecimals[rng.nextInt(below: extremeDecimals.count)].utf8)
        var tail = Array(bytes[end...])
        if text.count > end - start {
            for _ in 0..<(text.count - (end - start)) {
                guard let spaceIndex = tail.firstIndex(of: space) else { break }
                tail.remove(at: spaceIndex)
            }
        } else {
            tail.insert(contentsOf: [UInt8](repeating: space, count: end - start - text.count), at: 0)
        }
        bytes = Array(bytes[..<start]) + text + tail
    } else {
        let width = rng.nextInt(below: 2) == 0 ? 4 : 8
        guard bytes.count >= width else { return }
        let value = extremeWords[rng.nextInt(below: extremeWords.count)]
        let field = (0..<width).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) }   // little-endian
        let offset = rng.nextInt(below: bytes.count - width + 1)
        bytes.replaceSubrange(offset..<(offset + width), with: rng.nextInt(below: 2) == 0 ? field : field.reversed())
    }
}

/// Recomputes the CRC-32 of every whole chunk of a PNG file, so that libpng reads an edited header
/// instead of refusing its checksum.
func recomputeChunkChecksums(_ bytes: inout [UInt8]) {
    var offset = 8
    while offset + 12 <= bytes.count {
        let length = bytes[offset..<(offset + 4)].reduce(0) { $0 << 8 | Int($1) }
        let crcOffset = offset + 8 + length
        guard crcOffset + 4 <= bytes.count else { return }
        let crc = bytes[(offset + 4)..<crcOffset].withContiguousStorageIfAvailable { crc32(0, $0.baseAddress, uInt($0.count)) } ?? 0
        for index in 0..<4 { bytes[crcOffset + index] = UInt8(truncatingIfNeeded: crc >> (8 * (3 - UInt(index)))) }
        offset = crcOffset + 4
    }
}

/// libFuzzer's mutations, and a third of the time one of ours: a number in the input set to an
/// extreme value (``setExtremeNumber(in:using:)``). Random bit flips seldom turn a shape of 3 into
/// 2^62; this does it in one step, as a hostile file would. Checksums that would refuse almost any
/// edit are kept right: gzip data is inflated, edited and deflated again, a PNG's CRCs recomputed.
@_cdecl("LLVMFuzzerCustomMutator")
public func customMutator(_ data: UnsafeMutablePointer<UInt8>, _ size: Int, _ maxSize: Int, _ seed: CUnsignedInt) -> Int {
    var rng = RandomGenerator(seed: UInt64(seed))
    guard size > 0, rng.nextInt(below: 3) == 0 else { return libFuzzerMutate(data, size, maxSize) }
    var bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if Gzip.hasGzipMagic(bytes), var inflated = try? Gzip.decompress(Data(bytes), maximumSize: 1 << 24) {
        setExtremeNumber(in: &inflated, using: &rng)
        bytes = [UInt8](Gzip.compress(inflated))
    } else {
        setExtremeNumber(in: &bytes, using: &rng)
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { recomputeChunkChecksums(&bytes) }
    }
    guard bytes.count <= maxSize else { return libFuzzerMutate(data, size, maxSize) }
    bytes.withUnsafeBufferPointer { data.update(from: $0.baseAddress!, count: $0.count) }
    return bytes.count
}

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    _ = try? reader.read(Data(bytes: bytes, count: count))
    return 0
}
