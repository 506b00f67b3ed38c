import DevenvSystem
@testable import DevenvRuntime
import Testing

struct ResourceLimitsTests {
    @Test(arguments: [("1024", 1024), ("512k", 512 << 10), ("64m", 64 << 20), ("2g", 2 << 30), ("1.5g", 3 << 29),
                      ("2G", 2 << 30), ("64MiB", 64 << 20), ("3gb", 3 << 30), ("100b", 100), (" 1t ", 1 << 40)] as [(String, UInt64)])
    func sizesParse(text: String, bytes: UInt64) throws {
        #expect(try ResourceLimits.parseSize(text, option: "memory") == bytes)
    }

    @Test(arguments: ["", "g", "2x", "-1g", "0", "1e9", "2 g", "0x10", "nan", "99999999999t"])
    func badSizesAreRejected(text: String) {
        let error = caught(RuntimeError.self) { _ = try ResourceLimits.parseSize(text, option: "memory") }
        #expect(error?.kind == .invalidSpec)
        #expect(error?.message.hasPrefix("memory ") == true)
    }

    @Test func overridingKeepsWhatIsNotGiven() throws {
        let limits = try ResourceLimits.default.overriding(memory: "2g", cpus: "1.5")
        #expect(limits == ResourceLimits(memory: 2 << 30, pids: ResourceLimits.defaultPids, cpus: 1.5, shmSize: 1 << 30))
        #expect(limits.cpuQuotaMicroseconds == 150_000)
        let lifted = try limits.overriding(memory: "max", pids: "unlimited", cpus: "none", shmSize: "64m")
        #expect(lifted == ResourceLimits(memory: nil, pids: nil, cpus: nil, shmSize: 64 << 20))
        #expect(!lifted.needsCgroup)
        #expect(try ResourceLimits.default.overriding(pids: "4096").pids == 4096)
    }

    @Test func limitsBelowWhatInitNeedsAreRejected() {
        #expect(caught(RuntimeError.self) { _ = try ResourceLimits.parseMemory("1m") }?.message
            == "memory limit 1m is below the minimum of 16m (the container's init needs some)")
        #expect(caught(RuntimeError.self) { _ = try ResourceLimits.parsePids("1") }?.message
            == "pids limit 1: expected a whole number of at least 2 (init and the command), or max")
        #expect(caught(RuntimeError.self) { _ = try ResourceLimits.parsePids("4k") } != nil)
        #expect(caught(RuntimeError.self) { _ = try ResourceLimits.parseCPUs("0.001") } != nil)
        #expect(caught(RuntimeError.self) { _ = try ResourceLimits.parseCPUs("inf") } != nil)
        // tmpfs reads size=0 as unlimited, so /dev/shm cannot be lifted or zeroed.
        #expect(caught(RuntimeError.self) { _ = try ResourceLimits.parseShmSize("max") } != nil)
        #expect(caught(RuntimeError.self) { _ = try ResourceLimits.parseShmSize("0") } != nil)
    }

    @Test func summaryAndDescriptions() {
        #expect(ResourceLimits.default.summary == "memory max, pids 16384, cpus max, shm 1g")
        #expect(ResourceLimits(memory: 1536 << 20, pids: 10, cpus: 0.5, shmSize: 4097).summary == "memory 1536m, pids 10, cpus 0.5, shm 4097")
        #expect(ResourceLimits(cpus: 2).summary.contains("cpus 2,"))
    }

    @Test func rlimitsWithAndWithoutACgroup() {
        let modest = (soft: UInt64(1024), hard: UInt64(524_288))
        #expect(ContainerLimits.rlimits(.default, cgroup: true, openFiles: modest).isEmpty)
        #expect(ContainerLimits.rlimits(.default, cgroup: false, openFiles: modest)
            == [RLimitSetting(resource: ResourceLimit.processes, soft: 16384, hard: 16384)])
        #expect(ContainerLimits.rlimits(ResourceLimits(pids: nil), cgroup: false, openFiles: modest).isEmpty)
        let huge = (soft: UInt64(1 << 30), hard: UInt64.max)
        #expect(ContainerLimits.rlimits(.default, cgroup: true, openFiles: huge)
            == [RLimitSetting(resource: ResourceLimit.openFiles, soft: 1 << 20, hard: 1 << 20)])
    }

    @Test func theWarningIsOneLineThatSaysWhatHolds() {
        let limits = ResourceLimits(memory: 1 << 30, pids: 100, cpus: 1)
        let line = ContainerLimits.warning(limits, reason: "cgroup v1 is not writable by uid 1000", hint: "use v2", nprocBinds: true)
        #expect(line == "devenv: warning: no cgroup for resource limits (cgroup v1 is not writable by uid 1000); processes are limited to 100"
            + " by RLIMIT_NPROC; the memory and cpus limit is not enforced; hint: use v2")
        let root = ContainerLimits.warning(.default, reason: "a\nb", hint: "h", nprocBinds: false)
        #expect(!root.contains("\n"))
        #expect(root.contains("RLIMIT_NPROC does not bind root"))
    }
}
