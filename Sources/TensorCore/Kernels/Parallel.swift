import Dispatch
import Foundation
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
    /// The threads are `WorkerPool`'s.
    public static func forEach(_ taskCount: Int, _ body: (Int) -> Void) {
        let threads = insideTask.isSet ? 1 : min(threadCount, taskCount, WorkerPool.maximumShares)
        if threads <= 1 {
            for task in 0..<taskCount { body(task) }
            return
        }
        withoutActuallyEscaping(body) { body in
            WorkerPool.shared.run(shares: threads) { share in
                for task in (share * taskCount / threads)..<((share + 1) * taskCount / threads) { body(task) }
            }
        }
    }

    /// Set on a thread while it runs tasks of `forEach`.
    static let insideTask = ThreadFlag()
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
    /// Elementwise kernels below this many elements run on the calling thread: handing half of
    /// them to a watching worker (about a microsecond) costs more than the work it would take over.
    static let minimumParallelElements = 1 << 14
    /// Elements per task when an elementwise kernel is split (128 KB of floats), unless that
    /// leaves a thread without one.
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
        let chunks = max(threadCount, (count + elementsPerChunk - 1) / elementsPerChunk)
        forEach(chunks) { chunk in body(chunk * count / chunks..<(chunk + 1) * count / chunks) }
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

/// The threads behind `Parallel.forEach`: they wait between jobs by watching for the next one,
/// and only go to sleep after a couple of milliseconds without work.
///
/// Dispatch's `concurrentPerform` lets its threads sleep between calls, and on a virtual machine
/// waking a sleeping core takes tens of microseconds: for two shares of 24 µs, the caller's own
/// share started 10 µs after the call, and the call returned 25 µs after the last share ended. A
/// training step runs hundreds of jobs that short. OpenMP's runtimes keep their threads spinning
/// for the same reason.
///
/// One job at a time: a second thread calling in while a job runs does its tasks itself.
final class WorkerPool: @unchecked Sendable {
    static let shared = WorkerPool()
    /// The most shares one job can have (the width of its field in `state`).
    static let maximumShares = 0xffff

    /// A worker watching for work sleeps after this long without any.
    static let sleepAfterNanoseconds: UInt64 = 2_000_000
    /// …and from this long on it offers its core to other threads between looks, in case there are
    /// more threads than cores.
    static let yieldAfterNanoseconds: UInt64 = 50_000

    /// The job in one word, so that a claim checks all of it at once: its number (bits 32…), its
    /// share count (bits 16…31) and how many shares are claimed (bits 0…15).
    private let state = Atomic<Int>(0)
    /// Shares of the current job finished.
    private let finished = Atomic<Int>(0)
    /// Set while a caller owns the pool.
    private let busy = Atomic<Bool>(false)
    /// Workers asleep, waiting on `wake`.
    private let sleepers = Atomic<Int>(0)
    /// The current job's body; read only by a thread that has claimed one of its shares.
    private var body: ((Int) -> Void)?
    private var jobNumber = 0
    private var workerCount = 0
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    private init() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(wake, nil)
    }

    /// Runs `body(share)` for every share in 0..<shares, on the calling thread and the workers.
    func run(shares: Int, _ body: @escaping (Int) -> Void) {
        precondition(shares > 0 && shares <= Self.maximumShares, "WorkerPool: \(shares) shares")
        guard busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            for share in 0..<shares { body(share) }
            return
        }
        defer { busy.store(false, ordering: .releasing) }
        while workerCount < shares - 1 { startWorker() }
        self.body = body
        finished.store(0, ordering: .relaxed)
        jobNumber &+= 1
        state.store((jobNumber & 0x7fff_ffff) << 32 | shares << 16, ordering: .sequentiallyConsistent)
        if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
            pthread_mutex_lock(mutex)
            pthread_cond_broadcast(wake)
            pthread_mutex_unlock(mutex)
        }
        Parallel.insideTask.isSet = true
        runShares()
        Parallel.insideTask.isSet = false
        WorkerPool.watch { finished.load(ordering: .acquiring) == shares }
        self.body = nil
    }

    /// Claims shares of the current job, and runs them, until none is left.
    private func runShares() {
        var current = state.load(ordering: .acquiring)
        while current & 0xffff < (current >> 16) & 0xffff {
            let (claimed, seen) = state.compareExchange(expected: current, desired: current + 1, ordering: .acquiringAndReleasing)
            guard claimed else { current = seen; continue }
            body!(current & 0xffff)
            finished.add(1, ordering: .releasing)
            current = state.load(ordering: .acquiring)
        }
    }

    private func startWorker() {
        workerCount += 1
        let thread = Thread { [self] in
            Parallel.insideTask.isSet = true
            var job = state.load(ordering: .acquiring) >> 32
            while true {
                let idle = !WorkerPool.watch(giveUpAfter: WorkerPool.sleepAfterNanoseconds) { state.load(ordering: .acquiring) >> 32 != job }
                if idle { sleep(untilAfter: job) }
                job = state.load(ordering: .acquiring) >> 32
                runShares()
            }
        }
        thread.name = "WorkerPool \(workerCount)"
        thread.start()
    }

    /// Sleeps until a job after number `job` is posted.
    private func sleep(untilAfter job: Int) {
        pthread_mutex_lock(mutex)
        sleepers.add(1, ordering: .sequentiallyConsistent)
        while state.load(ordering: .sequentiallyConsistent) >> 32 == job { pthread_cond_wait(wake, mutex) }
        sleepers.subtract(1, ordering: .sequentiallyConsistent)
        pthread_mutex_unlock(mutex)
    }

    /// Polls `condition` until it holds (true) or `giveUpAfter` nanoseconds pass (false),
    /// yielding the core between polls after the first `yieldAfterNanoseconds`.
    @discardableResult
    private static func watch(giveUpAfter limit: UInt64 = .max, _ condition: () -> Bool) -> Bool {
        var polls = 0
        var start: UInt64 = 0
        while !condition() {
            polls &+= 1
            guard polls & 255 == 0 else { continue }
            let now = DispatchTime.now().uptimeNanoseconds
            if start == 0 { start = now; continue }
            let waited = now - start
            if waited > limit { return false }
            if waited > yieldAfterNanoseconds { sched_yield() }
        }
        return true
    }
}
