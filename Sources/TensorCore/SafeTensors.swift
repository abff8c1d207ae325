import Foundation

/// What was wrong with a `.safetensors` file.
public struct SafeTensorsError: Error, CustomStringConvertible {
    public let file: String
    public let problem: String
    public init(file: String, problem: String) { (self.file, self.problem) = (file, problem) }
    public var description: String { "\(file): not a readable safetensors file: \(problem)" }
}

/// Named tensors in the safetensors format, which PyTorch, JAX and Hugging Face read:
/// an 8-byte little-endian header length, a JSON header mapping each name to its dtype, shape and
/// byte range, free-form string metadata under `__metadata__`, then the raw little-endian data.
///
/// Tensors are written as F32 or F64. Reading also takes what PyTorch writes beside them: half
/// precision (F16, BF16) becomes float32 and integers and booleans (`num_batches_tracked` is I64)
/// become float64, both without rounding; an integer float64 cannot hold exactly is an error.
public struct SafeTensors {
    /// The tensors, in the order they are written.
    public var tensors: [(name: String, tensor: Tensor)]
    /// String metadata (step counts, options, …).
    public var metadata: [String: String]

    public init(tensors: [(name: String, tensor: Tensor)] = [], metadata: [String: String] = [:]) {
        self.tensors = tensors
        self.metadata = metadata
    }

    /// The tensor stored under `name`, if any.
    public subscript(name: String) -> Tensor? { tensors.first { $0.name == name }?.tensor }

    // MARK: - Writing

    /// The file's bytes.
    public func encoded() -> Data {
        var header: [String: Any] = [:]
        var offset = 0
        for (name, tensor) in tensors {
            let bytes = tensor.count * tensor.dtype.byteCount
            header[name] = ["dtype": tensor.dtype == .float32 ? "F32" : "F64", "shape": tensor.shape,
                            "data_offsets": [offset, offset + bytes]] as [String: Any]
            offset += bytes
        }
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var json = try! JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        // Pad with spaces so that the data starts 8-byte aligned, as the reference writer does.
        json.append(contentsOf: [UInt8](repeating: 0x20, count: (8 - json.count % 8) % 8))
        var data = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(json)
        for (_, tensor) in tensors {
            data.append(Data(bytes: tensor.storage.raw, count: tensor.count * tensor.dtype.byteCount))
        }
        return data
    }

    /// Writes atomically: a temporary file beside the target, then a rename, so a run killed
    /// mid-write leaves the previous file intact.
    public func write(to url: URL) throws {
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).tmp")
        try encoded().write(to: temporary)
        // rename(2) replaces the target in one step on the same file system.
        guard rename(temporary.path, url.path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw SafeTensorsError(file: url.path, problem: "cannot move the written file into place (\(reason))")
        }
    }

    /// Removes the temporary files that writes killed midway left in `folder`, and returns their names.
    ///
    /// A temporary is `.NAME.safetensors.PID.tmp`, named after the process that writes it; one whose
    /// process no longer runs can never be finished. A live writer's (another run in the same folder)
    /// is kept.
    @discardableResult
    public static func removeStaleTemporaryFiles(in folder: URL) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        let stale = names.filter { name in
            guard name.hasPrefix("."), name.hasSuffix(".tmp") else { return false }
            let middle = name.dropFirst().dropLast(4)                      // NAME.safetensors.PID
            guard let dot = middle.lastIndex(of: "."), middle[..<dot].hasSuffix(".safetensors"),
                  let process = Int32(middle[middle.index(after: dot)...]), process > 0 else { return false }
            return kill(process, 0) != 0 && errno == ESRCH
        }
        return stale.filter { (try? FileManager.default.removeItem(at: folder.appendingPathComponent($0))) != nil }.sorted()
    }

    // MARK: - Reading

    /// The longest JSON header `init(data:)` accepts (the limit of the format's own reader, the `safetensors` package: 100 MB).
    public static let maximumHeaderLength: UInt64 = 100_000_000

    /// Reads a file written by `write(to:)`, by the `safetensors` Python package or by PyTorch tooling.
    public init(contentsOf url: URL) throws {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw SafeTensorsError(file: url.path, problem: "cannot read it (\(error.localizedDescription))")
        }
        try self.init(data: data, name: url.path)
    }

    /// Parses safetensors bytes; `name` labels errors.
    public init(data: Data, name: String = "safetensors data") throws {
        func fail(_ problem: String) -> SafeTensorsError { SafeTensorsError(file: name, problem: problem) }
        let bytes = [UInt8](data)
        guard bytes.count >= 8 else { throw fail("\(bytes.count) bytes is shorter than the 8-byte header length") }
        let headerLength = bytes[0..<8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard headerLength <= UInt64(bytes.count - 8) else {
            throw fail("header length \(headerLength) exceeds the file's \(bytes.count - 8) remaining bytes")
        }
        guard headerLength <= Self.maximumHeaderLength else {
            throw fail("header length \(headerLength) exceeds the \(Self.maximumHeaderLength) bytes this reader accepts")
        }
        let dataStart = 8 + Int(headerLength)
        guard let header = (try? JSONSerialization.jsonObject(with: Data(bytes[8..<dataStart]))) as? [String: Any] else {
            throw fail("the header is not a JSON object")
        }
        var metadata: [String: String] = [:]
        if let raw = header["__metadata__"] {
            guard let strings = raw as? [String: String] else { throw fail("__metadata__ is not a map of strings") }
            metadata = strings
        }
        var entries: [(name: String, begin: Int, tensor: Tensor)] = []
        for (key, value) in header where key != "__metadata__" {
            guard let info = value as? [String: Any], let dtypeName = info["dtype"] as? String,
                  let shape = info["shape"] as? [Int], let offsets = info["data_offsets"] as? [Int], offsets.count == 2 else {
                throw fail("entry '\(key)' lacks a dtype, shape or data_offsets")
            }
            guard let element = StoredElement(rawValue: dtypeName) else {
                throw fail("entry '\(key)' has dtype \(dtypeName); this reader takes "
                           + StoredElement.allCases.map(\.rawValue).joined(separator: ", "))
            }
            guard shape.allSatisfy({ $0 >= 0 }) else { throw fail("entry '\(key)' has a negative size in \(shape)") }
            guard let byteCount = Shape.checkedByteCount(shape, elementSize: element.byteCount) else {
                throw fail("entry '\(key)': shape \(shape) of \(dtypeName) needs more bytes than an Int can count")
            }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin >= 0, end >= begin, end <= bytes.count - dataStart, end - begin == byteCount else {
                throw fail("entry '\(key)': bytes \(begin)..<\(end) do not hold shape \(shape) of \(dtypeName) inside the \(bytes.count - dataStart) data bytes")
            }
            let tensor = Tensor(uninitialized: shape, dtype: element.dtype)
            try bytes.withUnsafeBytes { raw in
                let stored = UnsafeRawBufferPointer(rebasing: raw[(dataStart + begin)..<(dataStart + end)])
                if let problem = element.decode(stored, into: tensor) { throw fail("entry '\(key)' \(problem)") }
            }
            entries.append((key, begin, tensor))
        }
        self.tensors = entries.sorted { $0.begin < $1.begin }.map { ($0.name, $0.tensor) }
        self.metadata = metadata
    }
}

/// An element type of the safetensors format, and how it becomes a tensor's dtype.
private enum StoredElement: String, CaseIterable {
    case F64, F32, F16, BF16, I64, I32, I16, I8, U64, U32, U16, U8, BOOL

    var byteCount: Int {
        switch self {
        case .F64, .I64, .U64: 8
        case .F32, .I32, .U32: 4
        case .F16, .BF16, .I16, .U16: 2
        case .I8, .U8, .BOOL: 1
        }
    }

    /// Every value of the narrow floats fits float32 exactly; integers need float64's 53-bit significand.
    var dtype: DType {
        switch self {
        case .F32, .F16, .BF16: .float32
        default: .float64
        }
    }

    /// Integers whose magnitude is at most this are exact in float64.
    private static let largestExactInteger: UInt64 = 1 << 53

    /// Converts the little-endian elements in `stored` into `tensor`; returns what is wrong with a
    /// value that has no exact float, or nil.
    func decode(_ stored: UnsafeRawBufferPointer, into tensor: Tensor) -> String? {
        let count = tensor.count
        func load<T: FixedWidthInteger>(_: T.Type, _ index: Int) -> T {
            T(littleEndian: stored.loadUnaligned(fromByteOffset: index * MemoryLayout<T>.size, as: T.self))
        }
        switch self {
        case .F64, .F32:
            if let source = stored.baseAddress { tensor.storage.raw.copyMemory(from: source, byteCount: stored.count) }
            return nil
        case .F16, .BF16:
            let floats = tensor.storage.buffer(Float.self)
            for index in 0..<count {
                let bits = load(UInt16.self, index)
                floats[index] = self == .BF16 ? Float(bitPattern: UInt32(bits) << 16) : Self.float(half: bits)
            }
            return nil
        default:
            let doubles = tensor.storage.buffer(Double.self)
            for index in 0..<count {
                let value: Double
                switch self {
                case .I64, .U64:
                    let bits = load(UInt64.self, index)
                    let negative = self == .I64 && Int64(bitPattern: bits) < 0
                    let magnitude = negative ? Int64(bitPattern: bits).magnitude : bits
                    guard magnitude <= Self.largestExactInteger else {
                        return "holds the integer \(negative ? "-" : "")\(magnitude), which float64 cannot hold exactly"
                    }
                    value = negative ? -Double(magnitude) : Double(magnitude)
                case .I32: value = Double(Int32(bitPattern: load(UInt32.self, index)))
                case .U32: value = Double(load(UInt32.self, index))
                case .I16: value = Double(Int16(bitPattern: load(UInt16.self, index)))
                case .U16: value = Double(load(UInt16.self, index))
                case .I8: value = Double(Int8(bitPattern: load(UInt8.self, index)))
                case .U8: value = Double(load(UInt8.self, index))
                default:                                                    // BOOL: one byte, 0 or 1
                    let byte = load(UInt8.self, index)
                    guard byte <= 1 else { return "holds the byte \(byte) where a BOOL is 0 or 1" }
                    value = Double(byte)
                }
                doubles[index] = value
            }
            return nil
        }
    }

    /// The IEEE 754 binary16 value with these bits: 1 sign, 5 exponent (bias 15), 10 fraction bits.
    static func float(half bits: UInt16) -> Float {
        let sign: Float = bits & 0x8000 == 0 ? 1 : -1
        let exponent = Int(bits >> 10 & 0x1F), fraction = Float(bits & 0x3FF)
        switch exponent {
        case 0: return sign * fraction * 0x1p-24                          // zero and subnormals
        case 31: return fraction == 0 ? sign * .infinity : .nan
        default: return sign * (1 + fraction / 1024) * Float(sign: .plus, exponent: exponent - 15, significand: 1)
        }
    }
}
