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

    /// Runs `body(task)` for every task in 0..<taskCount, spread over the threads.
    ///
    /// Each task must write only its own part of the output; then the result does not depend on
    /// how many threads ran or in which order they finished.
    public static func forEach(_ taskCount: Int, _ body: (Int) -> Void) {
        let threads = min(threadCount, taskCount)
        if threads <= 1 {
            for task in 0..<taskCount { body(task) }
            return
        }
        withoutActuallyEscaping(body) { body in
            // One parallel region at a time uses the team; a region started inside a task, or on
            // another thread meanwhile, runs on its caller, whose core is busy anyway.
            guard WorkerTeam.shared.run(taskCount, helpers: threads - 1, body) else {
                for task in 0..<taskCount { body(task) }
                return
            }
        }
    }
}

/// Threads that stay awake for a moment after each parallel region, so that the next one, which
/// in a training step follows within microseconds, starts on every core at once.
///
/// A thread woken from sleep takes tens of microseconds to start, about as long as one of the
/// small kernels of the chapters' networks takes in all; a helper that spins sees the next region
/// at once. After `spinNanoseconds` without one it sleeps until one comes. Tasks are handed out
/// one at a time from a shared counter, so a helper that starts late simply takes fewer.
final class WorkerTeam: @unchecked Sendable {
    static let shared = WorkerTeam()

    /// How long a helper spins after a region before it sleeps.
    static let spinNanoseconds: UInt64 = 200_000

    /// The region being run. Written only while every helper is done with the previous one.
    private struct Region {
        var taskCount = 0
        /// Helpers 0..<helpers take tasks; the others only report back.
        var helpers = 0
        var body: ((Int) -> Void)?
    }
    private var region = Region()
    /// Bumped once per region: the helpers watch it.
    private let generation = Atomic<Int>(0)
    private let nextTask = Atomic<Int>(0)
    /// Helpers not yet done with the current region.
    private let unfinished = Atomic<Int>(0)
    private let busy = Atomic<Bool>(false)
    private let sleepers = Atomic<Int>(0)
    private let wakeUp = NSCondition()
    /// Helper threads started so far (only the thread that holds `busy` starts more).
    private var helperCount = 0

    /// Runs `body` for tasks 0..<taskCount on the caller and `helpers` helper threads, and
    /// returns true; returns false, running nothing, when the team is running another region.
    func run(_ taskCount: Int, helpers: Int, _ body: (Int) -> Void) -> Bool {
        guard busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else { return false }
        defer { busy.store(false, ordering: .releasing) }
        while helperCount < helpers {
            startHelper(index: helperCount, seen: generation.load(ordering: .relaxed))
            helperCount += 1
        }
        withoutActuallyEscaping(body) { body in
            region = Region(taskCount: taskCount, helpers: helpers, body: body)
            nextTask.store(0, ordering: .relaxed)
            unfinished.store(helperCount, ordering: .relaxed)
            generation.add(1, ordering: .sequentiallyConsistent)
            // A helper counts itself asleep before it looks at the generation a last time, so
            // one of the two sees the other: none sleeps through a region.
            if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                wakeUp.lock()
                wakeUp.broadcast()
                wakeUp.unlock()
            }
            runTasks(body, count: taskCount)
            while unfinished.load(ordering: .acquiring) > 0 {}
            region.body = nil
        }
        return true
    }

    private func runTasks(_ body: (Int) -> Void, count: Int) {
        while true {
            let task = nextTask.add(1, ordering: .relaxed).oldValue
            guard task < count else { return }
            body(task)
        }
    }

    /// Helper `index`'s share of the current region. Its copy of the body is gone when this
    /// returns, before the helper reports back: `run` checks that the body did not escape.
    private func takeTasks(helper index: Int) {
        let region = self.region
        if index < region.helpers, let body = region.body { runTasks(body, count: region.taskCount) }
    }

    private func startHelper(index: Int, seen first: Int) {
        let thread = Thread { [self] in
            var seen = first
            while true {
                seen = waitForRegion(after: seen)
                takeTasks(helper: index)
                unfinished.subtract(1, ordering: .releasing)
            }
        }
        thread.stackSize = 8 << 20
        thread.start()
    }

    /// Spins, then sleeps, until the generation moves on from `seen`; returns the new one.
    private func waitForRegion(after seen: Int) -> Int {
        let start = DispatchTime.now().uptimeNanoseconds
        var spins = 0
        while true {
            let current = generation.load(ordering: .acquiring)
            if current != seen { return current }
            spins += 1
            guard spins % 1024 == 0, DispatchTime.now().uptimeNanoseconds - start > Self.spinNanoseconds else { continue }
            wakeUp.lock()
            sleepers.add(1, ordering: .sequentiallyConsistent)
            while generation.load(ordering: .sequentiallyConsistent) == seen { wakeUp.wait() }
            sleepers.subtract(1, ordering: .sequentiallyConsistent)
            wakeUp.unlock()
        }
    }
}

extension Parallel {
    /// Elementwise kernels below this many elements run on the calling thread: waking another
    /// thread costs more than the work it would take over.
    static let minimumParallelElements = 1 << 16
    /// Elements per task when an elementwise kernel is split (128 KB of floats).
    static let elementsPerChunk = 1 << 15

    /// Runs `body(range)` over `0..<count` cut into fixed chunks, spread over the threads when
    /// there is enough work. For kernels whose every output element depends only on its own
    /// inputs, so that the result is the same however the range is cut.
    static func forEachChunk(of count: Int, _ body: (Range<Int>) -> Void) {
        guard count >= minimumParallelElements, threadCount > 1 else {
            body(0..<count)
            return
        }
        let chunks = (count + elementsPerChunk - 1) / elementsPerChunk
        forEach(chunks) { chunk in body(chunk * elementsPerChunk..<min(count, (chunk + 1) * elementsPerChunk)) }
    }
}

/// Carries a non-Sendable value into a `@Sendable` closure.
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
