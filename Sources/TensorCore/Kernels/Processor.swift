import Foundation

/// What the kernels need to know about the processor they run on, read once at run time: the
/// cache sizes that set the GEMM's blocks, and the vector registers that set its tile.
///
/// A kernel planned at compile time for one cache size and one register file runs well on that
/// processor only; reading them here lets the same binary plan for the machine in front of it.
public struct Processor: Sendable, Equatable {
    /// The marketing name, as the operating system reports it ("unknown" where it does not).
    public let model: String
    /// Bits in one vector register: 512 with AVX-512, 256 with AVX2, 128 on NEON.
    public let vectorBits: Int
    /// Vector registers the instruction set names: 32 with AVX-512 or NEON, 16 otherwise.
    public let vectorRegisters: Int
    /// Data cache sizes in bytes, per core for L1 and L2 and as reported (often shared) for L3.
    public let level1Bytes: Int, level2Bytes: Int, level3Bytes: Int

    /// The processor this process runs on.
    public static let current = Processor.detect()

    public init(model: String, vectorBits: Int, vectorRegisters: Int, level1Bytes: Int, level2Bytes: Int, level3Bytes: Int) {
        (self.model, self.vectorBits, self.vectorRegisters) = (model, vectorBits, vectorRegisters)
        (self.level1Bytes, self.level2Bytes, self.level3Bytes) = (level1Bytes, level2Bytes, level3Bytes)
    }

    /// Sizes assumed where the system does not say: a small L1 and L2, so blocks err on the safe side.
    static let fallbackCaches = (level1: 32 << 10, level2: 512 << 10, level3: 8 << 20)

    private static func detect() -> Processor {
        #if os(Linux)
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        func field(_ name: String) -> String? {
            cpuinfo.split(separator: "\n").first { $0.hasPrefix(name) }
                .flatMap { $0.split(separator: ":", maxSplits: 1).last }
                .map { $0.trimmingCharacters(in: .whitespaces) }
        }
        let model = field("model name") ?? field("Model") ?? "unknown"
        let caches = linuxCacheSizes()
        #elseif canImport(Darwin)
        let model = sysctlString("machdep.cpu.brand_string") ?? "unknown"
        let caches = (level1: sysctlInt("hw.l1dcachesize"), level2: sysctlInt("hw.l2cachesize"), level3: sysctlInt("hw.l3cachesize"))
        #else
        let model = "unknown"
        let caches: (level1: Int?, level2: Int?, level3: Int?) = (nil, nil, nil)
        #endif
        #if arch(x86_64)
        let wide = hasAVX512
        let (bits, registers) = wide ? (512, 32) : (256, 16)
        #elseif arch(arm64)
        let (bits, registers) = (128, 32)
        #else
        let (bits, registers) = (128, 16)
        #endif
        return Processor(model: model, vectorBits: bits, vectorRegisters: registers,
                         level1Bytes: caches.level1 ?? fallbackCaches.level1,
                         level2Bytes: caches.level2 ?? fallbackCaches.level2,
                         level3Bytes: caches.level3 ?? fallbackCaches.level3)
    }

    #if arch(x86_64)
    /// Whether the CPU and the operating system run 512-bit vector instructions (the `avx512f` flag).
    private static var hasAVX512: Bool {
        #if os(Linux)
        let flags = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("flags") } ?? ""
        return flags.split(separator: " ").contains("avx512f")
        #elseif canImport(Darwin)
        return sysctlInt("hw.optional.avx512f") == 1
        #else
        return false
        #endif
    }
    #endif

    #if os(Linux)
    /// Data and unified cache sizes of cpu0 from sysfs (`index*/level`, `type`, `size` such as "48K").
    private static func linuxCacheSizes() -> (level1: Int?, level2: Int?, level3: Int?) {
        var sizes: [Int: Int] = [:]
        let root = "/sys/devices/system/cpu/cpu0/cache"
        for index in 0..<8 {
            func read(_ name: String) -> String? {
                (try? String(contentsOfFile: "\(root)/index\(index)/\(name)", encoding: .utf8))?
                    .trimmingCharacters(in: .whitespacesAndNewlines)
            }
            guard let level = read("level").flatMap(Int.init), let type = read("type"), type != "Instruction",
                  let size = read("size").flatMap(parseSize) else { continue }
            sizes[level] = size
        }
        return (sizes[1], sizes[2], sizes[3])
    }

    /// "48K" → 49152, "2048K" → 2 MiB, "32M" → 32 MiB; nil for anything else.
    static func parseSize(_ text: String) -> Int? {
        let units: [Character: Int] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30]
        guard let last = text.last else { return nil }
        if let unit = units[last] { return Int(text.dropLast()).map { $0 * unit } }
        return Int(text)
    }
    #endif

    #if canImport(Darwin)
    private static func sysctlInt(_ name: String) -> Int? {
        var value = 0, size = MemoryLayout<Int>.size
        return sysctlbyname(name, &value, &size, nil, 0) == 0 && value > 0 ? value : nil
    }

    private static func sysctlString(_ name: String) -> String? {
        var size = 0
        guard sysctlbyname(name, nil, &size, nil, 0) == 0, size > 0 else { return nil }
        var bytes = [CChar](repeating: 0, count: size)
        guard sysctlbyname(name, &bytes, &size, nil, 0) == 0 else { return nil }
        return String(cString: bytes)
    }
    #endif
}
