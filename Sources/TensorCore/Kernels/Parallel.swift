import Dispatch
import Synchronization

/// How many threads kernels use, and the one way they split work across them.
public enum Parallel {
    private static let configuredThreads = Atomic<Int>(0)

    /// The number of threads kernels run on: every core unless set (`--threads`).
    public static var threadCount: Int {
        get {
            let configured = configuredThreads.load(ordering: .relaxed)
            return configured > 0 ? configured : ProcessInfoCores.count
        }
        set {
            require(newValue >= 1, "Parallel.threadCount must be at least 1, got \(newValue)")
            configuredThreads.store(newValue, ordering: .relaxed)
        }
    }

    /// Runs `body(task)` for every task in 0..<taskCount, spread over the threads: each thread
    /// takes one run of neighbouring tasks. Neighbouring samples' rows share cache lines in a
    /// channel-major layout; dealt out one by one, the threads wrote into each other's lines.
    ///
    /// Each task must write only its own part of the output; then the result does not depend on
    /// how many threads ran or in which order they finished. Inside a task, `forEach` runs its
    /// tasks on that thread: a kernel can then cut its work into per-thread pieces that call other
    /// kernels (a chunk of samples through its copies and its product) without splitting them again.
    public static func forEach(_ taskCount: Int, _ body: (Int) -> Void) {
        let threads = insideTask.isSet ? 1 : min(threadCount, taskCount)
        if threads <= 1 {
            for task in 0..<taskCount { body(task) }
            return
        }
        withoutActuallyEscaping(body) { body in
            let shared = SendableBox(body)
            DispatchQueue.concurrentPerform(iterations: threads) { worker in
                insideTask.isSet = true
                defer { insideTask.isSet = false }
                for task in (worker * taskCount / threads)..<((worker + 1) * taskCount / threads) { shared.value(task) }
            }
        }
    }

    /// Set on a thread while it runs tasks of `forEach`.
    private static let insideTask = ThreadFlag()
}

/// A flag with one value per thread.
final class ThreadFlag: @unchecked Sendable {
    private var key = pthread_key_t()

    init() {
        let status = pthread_key_create(&key, nil)
        precondition(status == 0, "pthread_key_create failed (\(status))")
    }

    var isSet: Bool {
        get { pthread_getspecific(key) != nil }
        set { pthread_setspecific(key, newValue ? UnsafeRawPointer(bitPattern: 1) : nil) }
    }
}

extension Parallel {
    /// Elementwise kernels below this many elements run on the calling thread: waking another
    /// thread costs more than the work it would take over.
    static let minimumParallelElements = 1 << 16
    /// Elements per task when an elementwise kernel is split (128 KB of floats).
    static let elementsPerChunk = 1 << 15

    /// `forEach`, when its tasks move at least `minimumParallelElements` elements together; else
    /// the tasks run on the calling thread. For copies, whose small cases are over before a thread wakes.
    static func forEach(_ taskCount: Int, elements: Int, _ body: (Int) -> Void) {
        guard elements >= minimumParallelElements else {
            for task in 0..<taskCount { body(task) }
            return
        }
        forEach(taskCount, body)
    }

    /// Runs `body(range)` over `0..<count` cut into fixed chunks, spread over the threads when
    /// there is enough work. For kernels whose every output element depends only on its own
    /// inputs, so that the result is the same however the range is cut.
    public static func forEachChunk(of count: Int, _ body: (Range<Int>) -> Void) {
        guard count >= minimumParallelElements, threadCount > 1 else {
            body(0..<count)
            return
        }
        let chunks = (count + elementsPerChunk - 1) / elementsPerChunk
        forEach(chunks) { chunk in body(chunk * elementsPerChunk..<min(count, (chunk + 1) * elementsPerChunk)) }
    }
}

/// Carries a non-Sendable value into `concurrentPerform`'s `@Sendable` closure.
///
/// Safe here because every parallel kernel gives each task a disjoint slice of the output to
/// write and only reads shared inputs; the box adds no synchronisation and needs none.
struct SendableBox<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// The number of online cores.
enum ProcessInfoCores {
    static let count: Int = {
        #if canImport(Glibc)
        return max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        #else
        return max(1, Int(sysconf(_SC_NPROCESSORS_ONLN)))
        #endif
    }()
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
