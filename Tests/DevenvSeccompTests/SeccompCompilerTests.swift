import DevenvSeccomp
import Testing

/// The compiled filter, checked by running it in SeccompSimulator: the "filter dump" of
/// the verification plan, which also covers rows where the kernel's own capability checks
/// hide what seccomp does (rows 14 and 15).
@Suite struct SeccompCompilerTests {
    static let program: Result<SeccompProgram, Error> = Result {
        try SeccompCompiler.compile(SeccompProfile.dockerDefault(capabilities: .dockerDefault, architecture: .x86_64))
    }
    let profile = SeccompProfile.dockerDefault(capabilities: .dockerDefault, architecture: .x86_64)

    static let eperm = SeccompAction.errno(1)
    static let enosys = SeccompAction.errno(38)

    func compiled() throws -> SeccompProgram { try Self.program.get() }

    @Test func compilesToALoadableProgram() throws {
        let program = try compiled()
        #expect(program.instructions.count > 100)
        #expect(program.instructions.count <= BPFInstruction.maximumCount)
        #expect(program.bytes.count == program.instructions.count * 8)
        #expect(try BPFInstruction.decode(program.bytes) == program.instructions)
        #expect(program.stubLength > 0 && program.stubLength < 20)
        try SeccompSimulator.validate(program.instructions)
    }

    @Test func unknownNamesAreSkippedNotFatal() throws {
        let program = try compiled()
        for name in program.unknownSyscalls {
            #expect(SeccompCompiler.number(of: name, on: .x86_64) == nil, "\(name)")
        }
        #expect(!program.unknownSyscalls.contains("read"))
        let custom = SeccompProfile(defaultAction: Self.eperm, architectures: [.x86_64],
                                    rules: [SeccompRule("no_such_syscall", .allow), SeccompRule("read", .allow)])
        #expect(try SeccompCompiler.compile(custom).unknownSyscalls == ["no_such_syscall"])
    }

    @Test func ceilingsAreTheHighestNamedNumbers() throws {
        let program = try compiled()
        let byArchitecture = Dictionary(uniqueKeysWithValues: program.ceilings.map { ($0.architecture, $0) })
        for architecture in [SeccompArchitecture.x86_64, .x86, .x32] {
            let ceiling = try #require(byArchitecture[architecture])
            let numbers = profile.namedSyscalls.compactMap { SeccompCompiler.number(of: $0, on: architecture) }
            #expect(ceiling.highest == numbers.max())
            #expect(ceiling.highest >= (architecture == .x32 ? 0x4000_0200 : 435))
        }
        let x32 = try #require(byArchitecture[.x32])
        #expect(try #require(x32.highestGeneric) < 0x4000_0200)
    }

    /// Every x86_64 number 0..<600 gives what the rules say for zero arguments, or ENOSYS
    /// when it is newer than the policy.
    @Test(arguments: [SeccompArchitecture.x86_64, .x86, .x32])
    func filterAgreesWithTheRulesForEveryNumber(architecture: SeccompArchitecture) throws {
        let program = try compiled()
        let ceiling = try #require(program.ceilings.first { $0.architecture == architecture })
        let base: UInt32 = architecture == .x32 ? SeccompArchitecture.x32SyscallBit : 0
        for offset in UInt32(0)..<600 {
            let number = base | offset
            let expected: SeccompAction
            if ceiling.isNewer(number) {
                expected = Self.enosys
            } else if let name = SeccompCompiler.name(of: number, on: architecture) {
                expected = profile.action(for: name)
            } else {
                expected = Self.eperm
            }
            let actual = try program.action(for: SeccompData(architecture, number: Int32(bitPattern: number)))
            #expect(actual == expected, "\(architecture) nr \(number) \(SeccompCompiler.name(of: number, on: architecture) ?? "?")")
        }
    }

    @Test(arguments: SeccompProfileTests.blocked)
    func blockedNamesGetEpermOnEveryAbi(name: String) throws {
        let program = try compiled()
        for architecture in [SeccompArchitecture.x86_64, .x86, .x32] {
            guard let number = SeccompCompiler.number(of: name, on: architecture) else { continue }
            let ceiling = try #require(program.ceilings.first { $0.architecture == architecture })
            let expected = ceiling.isNewer(number) ? Self.enosys : Self.eperm
            #expect(try program.action(for: name, on: architecture) == expected, "\(name) on \(architecture)")
        }
    }

    @Test(arguments: [SeccompArchitecture.x86_64, .x86, .x32])
    func argumentRulesOnEveryAbi(architecture: SeccompArchitecture) throws {
        let program = try compiled()
        // i386 arguments are 32 bits wide; libseccomp compares only the low half on x32 too.
        // The kernel reads the family as an int, so AF_ALG and AF_VSOCK must be refused
        // whatever the upper half holds; x86_64 also refuses any nonzero upper half.
        let upper: [UInt64] = architecture == .x86 ? [0] : [0, 0x1_0000_0000, 0xffff_ffff_0000_0000]
        for family in UInt64(0)...64 {
            for high in upper {
                let allowed = ![38, 40].contains(family) && (high == 0 || architecture == .x32)
                #expect(try program.action(for: "socket", on: architecture, arguments: [high | family, 1, 0]) == (allowed ? .allow : Self.eperm),
                        "socket(0x\(String(high | family, radix: 16))) on \(architecture)")
            }
        }
        // i386 socketcall: SYS_SOCKET refused whatever lies in memory; x86_64 and x32 have none.
        if architecture == .x86 {
            #expect(try program.action(for: "socketcall", on: architecture, arguments: [1, 0x1000]) == Self.eperm)
            for call: UInt64 in 2...20 {
                #expect(try program.action(for: "socketcall", on: architecture, arguments: [call, 0x1000]) == .allow, "socketcall(\(call))")
            }
        } else {
            #expect(SeccompCompiler.number(of: "socketcall", on: architecture) == nil)
        }
        for value: UInt64 in [0x0, 0x8, 0x20000, 0x20008, 0xffff_ffff] {
            #expect(try program.action(for: "personality", on: architecture, arguments: [value]) == .allow)
        }
        #expect(try program.action(for: "personality", on: architecture, arguments: [6]) == Self.eperm)
        for flag: UInt64 in [0x0002_0000, 0x0200_0000, 0x0400_0000, 0x0800_0000, 0x1000_0000, 0x2000_0000, 0x4000_0000] {
            #expect(try program.action(for: "clone", on: architecture, arguments: [flag | 17]) == Self.eperm)
        }
        #expect(try program.action(for: "clone", on: architecture, arguments: [0x0120_0011]) == .allow)
        #expect(try program.action(for: "clone3", on: architecture) == Self.enosys)
    }

    @Test func newerSyscallsGetEnosysAndOldUnnamedOnesEperm() throws {
        let program = try compiled()
        let native = try #require(program.ceilings.first { $0.architecture == .x86_64 })
        for number in [native.highest + 1, 467, 470, 1000, 0x3fff_ffff] where number > native.highest {
            #expect(try program.action(for: SeccompData(.x86_64, number: Int32(number))) == Self.enosys, "nr \(number)")
        }
        // x32: the generic gap above its highest generic number, and past its private range.
        #expect(try program.action(for: SeccompData(.x32, number: Int32(bitPattern: 0x4000_0000 | 470))) == Self.enosys)
        #expect(try program.action(for: SeccompData(.x32, number: Int32(bitPattern: 0x4000_0000 | 600))) == Self.enosys)
        #expect(try program.action(for: SeccompData(.x32, number: Int32(bitPattern: 0x4000_0000 | 512))) == .allow)  // rt_sigaction
        #expect(try program.action(for: SeccompData(.x32, number: Int32(bitPattern: 0x4000_0000 | 13))) == Self.eperm)  // 64-bit-only slot
        #expect(try program.action(for: SeccompData(.x86, number: 470)) == Self.enosys)
        // Unassigned numbers below the ceiling are not "newer": EPERM.
        #expect(try program.action(for: SeccompData(.x86_64, number: 400)) == Self.eperm)
    }

    @Test func foreignArchitectureKillsTheProcess() throws {
        let program = try compiled()
        for arch in [SeccompArchitecture.aarch64.rawValue, SeccompArchitecture.arm.rawValue, 0x1234] {
            #expect(try program.action(for: SeccompData(nr: 0, arch: arch)) == .killProcess)
        }
    }

    @Test func sysAdminLiftsTheNamespaceRules() throws {
        let profile = SeccompProfile.dockerDefault(capabilities: CapabilitySet.dockerDefault.union([.sysAdmin]), architecture: .x86_64)
        let program = try SeccompCompiler.compile(profile)
        #expect(try program.action(for: "clone", on: .x86_64, arguments: [0x1000_0011]) == .allow)
        #expect(try program.action(for: "clone3", on: .x86_64) == .allow)
        #expect(try program.action(for: "mount", on: .x86_64) == .allow)
        #expect(try program.action(for: "keyctl", on: .x86_64) == Self.eperm)
    }

    @Test func withoutTheNewerRuleThereIsNoStub() throws {
        var profile = self.profile
        profile.newerSyscallErrno = nil
        let program = try SeccompCompiler.compile(profile)
        #expect(program.stubLength == 0 && program.ceilings.isEmpty)
        #expect(try program.action(for: SeccompData(.x86_64, number: 470)) == Self.eperm)
    }

    /// The pfc dump shows the actions for key syscalls; blocked ones have no rule at all.
    @Test func pseudoCodeShowsTheActions() throws {
        let text = try compiled().pseudoCode
        #expect(text.contains("# devenv stub"))
        #expect(text.contains("# filter for arch x86_64 (3221225534)"))
        #expect(text.contains("# filter for arch x86 (1073741827)"))
        #expect(text.contains("# filter for arch x32 (3221225534)"))  // pfc prints the audit arch
        #expect(text.contains("# default action\n  action ERRNO(1);"))
        #expect(text.contains("# invalid architecture action\naction KILL_PROCESS;"))
        #expect(section(of: text, syscall: "clone3").contains("action ERRNO(38);"))
        #expect(section(of: text, syscall: "read").contains("action ALLOW;"))
        #expect(section(of: text, syscall: "socket").contains("$a0"))
        #expect(section(of: text, syscall: "clone").contains("$a0.lo32 & 0x7e020000"))
        // Rows 14 and 15 of the plan: no rule, so the default ERRNO(1) applies.
        for name in ["kexec_load", "init_module", "finit_module", "reboot", "swapon", "swapoff", "pivot_root",
                     "acct", "iopl", "ioperm", "vhangup", "settimeofday"] {
            #expect(!text.contains("\"\(name)\""), "\(name) has a rule")
        }
    }

    @Test func errorsNameTheOperationAndSyscall() {
        let bad = SeccompProfile(defaultAction: Self.eperm, architectures: [.x86_64],
                                 rules: [SeccompRule("read", .allow, conditions: [SeccompCondition(argument: 6, .equal, 0)])])
        #expect {
            try SeccompCompiler.compile(bad)
        } throws: { error in
            "\(error)" == "seccomp_rule_add_array read: invalid argument (EINVAL)"
        }
    }

    /// Text of the first pfc block for a syscall, up to the next one.
    private func section(of text: String, syscall: String) -> Substring {
        guard let start = text.range(of: "# filter for syscall \"\(syscall)\"") else { return "" }
        let rest = text[start.upperBound...]
        let end = rest.range(of: "# filter for syscall")?.lowerBound ?? rest.endIndex
        return rest[..<end]
    }
}
