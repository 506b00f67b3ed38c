@testable import DevenvRuntime
import Testing

@Suite struct IDMappingTests {
    @Test func parsesSubordinateFilesSkippingJunk() {
        let text = """
        # comment
        alice:100000:65536
        bob:165536:65536

        1001:231072:1000
        broken:line
        neg:-5:10
        zero:300000:0
        huge:4294967000:1000
          carol:400000:10  \r
        """
        let ranges = SubordinateRange.parse(text)
        #expect(ranges.map(\.owner) == ["alice", "bob", "1001", "carol"])
        #expect(ranges[3] == SubordinateRange(owner: "carol", start: 400000, count: 10))
    }

    @Test func selectsRangesByNameOrNumericUID() {
        let text = "alice:100000:65536\n1001:200000:10\nbob:300000:5\n"
        #expect(SubordinateRange.ranges(in: text, user: "alice", id: 1001).map(\.start) == [100000, 200000])
        #expect(SubordinateRange.ranges(in: text, user: "nobody", id: 4242).isEmpty)
    }

    @Test func keepIDMapsTheUserToItselfAndEverythingElseToTheRange() {
        let mapping = IDMapping.keepID(uid: 1000, gid: 1000,
                                       subordinateUIDs: [SubordinateRange(owner: "u", start: 100000, count: 65536)],
                                       subordinateGIDs: [SubordinateRange(owner: "u", start: 100000, count: 65536)])
        #expect(mapping.uids == [
            IDMapEntry(containerID: 0, hostID: 100000, count: 1000),
            IDMapEntry(containerID: 1000, hostID: 1000, count: 1),
            IDMapEntry(containerID: 1001, hostID: 101000, count: 64536),
        ])
        #expect(mapping.containerUID(forHost: 1000) == 1000)
        #expect(mapping.containerUID(forHost: 100000) == 0)
        #expect(mapping.containerUID(forHost: 165535) == 65536)
        #expect(mapping.containerUID(forHost: 0) == nil)
        #expect(mapping.needsHelpers(hostUID: 1000, hostGID: 1000))
        #expect(IDMapping.procText(mapping.uids) == "0 100000 1000\n1000 1000 1\n1001 101000 64536\n")
        #expect(IDMapping.helperArguments(mapping.uids) == ["0", "100000", "1000", "1000", "1000", "1", "1001", "101000", "64536"])
    }

    @Test func keepIDWithAUIDBeyondTheRangeAndSeveralRanges() {
        let mapping = IDMapping.keepID(uid: 70000, gid: 5,
                                       subordinateUIDs: [SubordinateRange(owner: "u", start: 100000, count: 100),
                                                         SubordinateRange(owner: "u", start: 500000, count: 50)],
                                       subordinateGIDs: [SubordinateRange(owner: "u", start: 100000, count: 10)])
        #expect(mapping.uids == [
            IDMapEntry(containerID: 0, hostID: 100000, count: 100),
            IDMapEntry(containerID: 100, hostID: 500000, count: 50),
            IDMapEntry(containerID: 70000, hostID: 70000, count: 1),
        ])
        #expect(mapping.gids == [
            IDMapEntry(containerID: 0, hostID: 100000, count: 5),
            IDMapEntry(containerID: 5, hostID: 5, count: 1),
            IDMapEntry(containerID: 6, hostID: 100005, count: 5),
        ])
        #expect(mapping.mapsContainerGID(5))
        #expect(!mapping.mapsContainerGID(11))
    }

    @Test func rangeContainingTheUsersOwnIDIsSkipped() {
        let mapping = IDMapping.keepID(uid: 100005, gid: 7,
                                       subordinateUIDs: [SubordinateRange(owner: "u", start: 100000, count: 10)],
                                       subordinateGIDs: [SubordinateRange(owner: "u", start: 300000, count: 10)])
        #expect(mapping == IDMapping.single(uid: 100005, gid: 7))
    }

    @Test func withoutRangesContainerRootIsTheUser() {
        let mapping = IDMapping.keepID(uid: 1000, gid: 1000, subordinateUIDs: [], subordinateGIDs: [])
        #expect(mapping == IDMapping(uids: [IDMapEntry(containerID: 0, hostID: 1000, count: 1)],
                                     gids: [IDMapEntry(containerID: 0, hostID: 1000, count: 1)]))
        #expect(!mapping.needsHelpers(hostUID: 1000, hostGID: 1000))
        #expect(mapping.containerUID(forHost: 1000) == 0)
        #expect(!mapping.mapsContainerGID(MountPlan.ttyGID))
    }

    @Test func hostIdentityFallsBackToASingleMappingWithoutHelpers() {
        let ranges = [SubordinateRange(owner: "u", start: 100000, count: 65536)]
        let withHelpers = HostIdentity(uid: 1000, gid: 1000, name: "u", subordinateUIDs: ranges, subordinateGIDs: ranges)
        #expect(withHelpers.idMapping?.containerUID(forHost: 1000) == 1000)
        var without = withHelpers
        without.hasMappingHelpers = false
        #expect(without.idMapping == .single(uid: 1000, gid: 1000))
        #expect(HostIdentity(uid: 0, gid: 0, name: "root").idMapping == nil)
    }
}
