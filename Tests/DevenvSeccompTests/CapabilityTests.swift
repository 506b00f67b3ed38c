import DevenvSeccomp
import Testing

@Suite struct CapabilityTests {
    @Test func dockerDefaultSetHasTheDocumentedMask() {
        let set = CapabilitySet.dockerDefault
        #expect(set.bitmask == 0x0000_0000_a804_25fb)
        #expect(set.hexMask == "00000000a80425fb")
        #expect(set.capabilities.count == 14)
        #expect(!set.contains(.sysAdmin))
        #expect(set.contains(.sysChroot) && set.contains(.setfcap) && set.contains(.netRaw))
    }

    @Test(arguments: [
        ("CAP_NET_ADMIN", Capability.netAdmin), ("net_admin", .netAdmin), ("NET_ADMIN", .netAdmin),
        ("cap_sys_admin", .sysAdmin), ("CAP_CHECKPOINT_RESTORE", .checkpointRestore), ("chown", .chown),
    ])
    func parsesNamesInEverySpelling(name: String, expected: Capability) throws {
        #expect(try Capability.parse(name) == expected)
    }

    @Test func everyCapabilityRoundTripsThroughItsNames() {
        for capability in Capability.allCases {
            #expect(Capability(name: capability.name) == capability)
            #expect(Capability(name: capability.shortName) == capability)
        }
        #expect(Capability.allCases.count == 41)
        #expect(Capability.sysAdmin.name == "CAP_SYS_ADMIN")
        #expect(Capability.sysAdmin.bit == 1 << 21)
    }

    @Test(arguments: ["CAP_FOO", "", "CAP_", "sys admin", "ALL"])
    func rejectsUnknownNames(name: String) {
        #expect(Capability(name: name) == nil)
        #expect(throws: SeccompError.self) { try Capability.parse(name) }
    }

    @Test func errorNamesTheCapability() {
        do {
            _ = try CapabilitySet.parse(names: ["CAP_CHOWN", "CAP_BOGUS"])
            Issue.record("expected an error")
        } catch {
            #expect("\(error)" == "parse capability CAP_BOGUS: unknown capability")
        }
    }

    @Test func setAlgebra() throws {
        var set = try CapabilitySet.parse(names: ["chown", "CAP_KILL"])
        #expect(set.bitmask == 0x21)
        set.insert(.netAdmin)
        set.remove(.chown)
        #expect(set.capabilities == [.kill, .netAdmin])
        #expect(set.description == "CAP_KILL,CAP_NET_ADMIN")
        #expect(CapabilitySet.dockerDefault.union([.sysAdmin]).contains(.sysAdmin))
        #expect(CapabilitySet.all.subtracting(.dockerDefault).bitmask == CapabilitySet.all.bitmask & ~0xa804_25fb)
        #expect(CapabilitySet.all.hexMask == "000001ffffffffff")
    }
}
