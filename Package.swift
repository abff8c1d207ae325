// swift-tools-version: 6.2
import PackageDescription

/// Numeric code is compiled optimised in every configuration: `swift test` builds debug, and
/// unoptimised tensor kernels run ~100× slower. With the `NativeCPU` trait (on by default) it is
/// also compiled for the processor that builds it, so that `SIMD8<Float>` becomes AVX2 or AVX-512
/// instructions with fused multiply-adds; a package that ships its binaries to other machines
/// depends on this one with `traits: []` and gets code for any x86-64.
let numericSettings: [SwiftSetting] = {
    var settings: [SwiftSetting] = [.unsafeFlags(["-O"])]
    #if arch(x86_64)
    settings.append(.unsafeFlags(["-target-cpu", "native"], .when(traits: ["NativeCPU"])))
    #endif
    return settings
}()

/// A chapter of the book: an executable of the sources in `Chapters/<folder>`, its numeric code optimised.
func chapter(_ name: String, in folder: String, dependencies: [Target.Dependency]) -> Target {
    .executableTarget(name: name, dependencies: dependencies, path: "Chapters/\(folder)", swiftSettings: numericSettings)
}

/// What the image chapters (2 to 6) build on: the models, FID-FMNIST, images, data and the notebook.
let imageChapterDependencies: [Target.Dependency] = ["GenerativeModels", "Evaluation", "ImageIO", "Datasets", "Notebook"]

let package = Package(
    name: "GenerativeSwift",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "TensorCore", targets: ["TensorCore"]),
        .library(name: "NeuralNetworks", targets: ["NeuralNetworks"]),
        .library(name: "ImageIO", targets: ["ImageIO"]),
        .library(name: "Datasets", targets: ["Datasets"]),
        .library(name: "Notebook", targets: ["Notebook"]),
        .library(name: "GenerativeModels", targets: ["GenerativeModels"]),
        .library(name: "Evaluation", targets: ["Evaluation"]),
        .executable(name: "Evaluate", targets: ["Evaluate"]),
        .executable(name: "Bench", targets: ["Bench"]),
    ],
    traits: [
        .trait(name: "NativeCPU", description: "Compile the numeric code for the processor that builds it (x86-64: its vector width and FMA)."),
        .default(enabledTraits: ["NativeCPU"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-numerics", from: "1.1.1"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        .target(
            name: "TensorCore",
            dependencies: [.product(name: "RealModule", package: "swift-numerics")],
            swiftSettings: numericSettings),
        .target(
            name: "NeuralNetworks",
            dependencies: ["TensorCore"],
            swiftSettings: numericSettings),
        .systemLibrary(
            name: "CPNG",
            pkgConfig: "libpng",
            providers: [.apt(["libpng-dev"]), .brew(["libpng"])]),
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"]), .brew(["zlib"])]),
        .target(
            name: "ImageIO",
            dependencies: ["TensorCore", "CPNG"],
            swiftSettings: numericSettings),
        .target(
            name: "Datasets",
            dependencies: ["TensorCore", "CZlib"],
            path: "Datasets",
            swiftSettings: numericSettings),
        .target(
            name: "Notebook",
            dependencies: ["TensorCore", "NeuralNetworks", "ImageIO", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .target(
            name: "GenerativeModels",
            dependencies: ["NeuralNetworks"],
            swiftSettings: numericSettings),
        .target(
            name: "Evaluation",
            dependencies: ["NeuralNetworks", "Datasets", "ImageIO", "Notebook"],
            resources: [.copy("fmnist-classifier.safetensors")],
            swiftSettings: numericSettings),
        .executableTarget(
            name: "Evaluate",
            dependencies: ["Evaluation", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: numericSettings),
        chapter("Concepts", in: "01-Concepts", dependencies: ["NeuralNetworks", "ImageIO", "Datasets", "Notebook"]),
        chapter("GAN", in: "02-GAN", dependencies: imageChapterDependencies),
        chapter("VAE", in: "03-VAE", dependencies: imageChapterDependencies),
        chapter("Diffusion", in: "04-Diffusion", dependencies: imageChapterDependencies),
        chapter("Flow", in: "05-Flow", dependencies: imageChapterDependencies),
        chapter("Practice", in: "06-Practice",
                dependencies: imageChapterDependencies + ["GAN", "VAE", "Flow",
                                                          .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .executableTarget(
            name: "Sample",
            dependencies: ["GenerativeModels", "ImageIO", "Datasets", "Notebook",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: numericSettings),
        .executableTarget(
            name: "Weave",
            dependencies: ["Notebook", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .executableTarget(
            name: "Bench",
            dependencies: [
                "TensorCore", "NeuralNetworks", "GenerativeModels", "Evaluation",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: numericSettings),
        .testTarget(name: "TensorCoreTests", dependencies: ["TensorCore", "TestSupport"], swiftSettings: numericSettings),
        .testTarget(name: "NeuralNetworksTests", dependencies: ["NeuralNetworks", "TestSupport"], swiftSettings: numericSettings),
        .testTarget(name: "ImageIOTests", dependencies: ["ImageIO"], swiftSettings: numericSettings),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets"], swiftSettings: numericSettings),
        .testTarget(name: "NotebookTests", dependencies: ["Notebook", "NeuralNetworks"]),
        .target(name: "TestSupport", dependencies: ["TensorCore", "NeuralNetworks"], path: "Tests/TestSupport"),
        .testTarget(name: "GenerativeModelsTests", dependencies: ["GenerativeModels", "Evaluation", "TestSupport"], swiftSettings: numericSettings),
        .testTarget(name: "EvaluationTests", dependencies: ["Evaluation", "Notebook", "Evaluate", "TestSupport"], swiftSettings: numericSettings),
        .testTarget(name: "ChapterTests", dependencies: ["TestSupport", "Concepts", "GAN", "VAE", "Diffusion", "Flow", "Practice", "Sample", "Weave", "Bench", "TensorCore"]),
    ]
)
