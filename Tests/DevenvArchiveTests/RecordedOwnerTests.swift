@testable import DevenvArchive
import DevenvSystem
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Issue 12: without the right to chown (devenv staging a tree as a user: ADD's archives),
/// an unpack records each node's owner in `user.devenv.owner`, overlay-style copied-up
/// directories keep their lower directory's, and the layer writer turns them back into the
/// owners the layer had. (Rootless snapshots are unpacked with chown, in the user namespace.)
@Suite struct RecordedOwnerTests {
    static let me = RecordedOwner(uid: geteuid(), gid: getegid())

    /// The attribute of `path` itself (lgetxattr, never following a symlink).
    static func owner(of path: String) -> RecordedOwner? {
        ExtendedAttribute.get(RecordedOwner.xattrName, of: path, limit: 64).flatMap(RecordedOwner.init(xattrValue:))
    }

    static func tree() -> TarBuilder {
        var tar = TarBuilder()
        tar.add(TarBuilder.Header(name: Array("etc/".utf8), type: TarBuilder.TypeFlag.directory.rawValue, mode: 0o755))
        tar.file("etc/passwd", Array("root:x:0:0::/:/bin/sh\n".utf8))
        tar.add(TarBuilder.Header(name: Array("home/".utf8), type: TarBuilder.TypeFlag.directory.rawValue, mode: 0o755))
        tar.add(TarBuilder.Header(name: Array("home/app/".utf8), type: TarBuilder.TypeFlag.directory.rawValue, mode: 0o750, uid: 1500, gid: 1600))
        tar.file("home/app/f", Array("f".utf8), mode: 0o600, uid: 1500, gid: 1600)
        tar.file("home/app/mine", Array("m".utf8), uid: Int(me.uid), gid: Int(me.gid))
        tar.finish()
        return tar
    }

    @Test func anUnpackWithoutChownRecordsTheOwners() throws {
        let sandbox = try Sandbox()
        let report = try sandbox.unpack(try sandbox.layer(Self.tree()))
        #expect(report.warnings.isEmpty)
        #expect(Self.owner(of: sandbox.root + "/home/app") == RecordedOwner(uid: 1500, gid: 1600))
        #expect(Self.owner(of: sandbox.root + "/home/app/f") == RecordedOwner(uid: 1500, gid: 1600))
        // Nodes that already show their owner carry nothing.
        #expect(Self.owner(of: sandbox.root + "/home/app/mine") == nil)
        #expect(sandbox.lstatInRoot("home/app/f")?.st_uid == Self.me.uid)
        if Self.me.uid != 0 {
            #expect(Self.owner(of: sandbox.root + "/etc/passwd") == RecordedOwner(uid: 0, gid: 0))
        }
    }

    /// Read back with the unpacking user's ids as `unpacker`, the layer has the tar's owners
    /// and no trace of the attribute.
    @Test func theWriterRecordsTheImagesOwners() throws {
        let sandbox = try Sandbox()
        _ = try sandbox.unpack(try sandbox.layer(Self.tree()))
        var options = LayerWriteOptions()
        options.compression = .none
        options.translateOverlayWhiteouts = false
        options.ownership = ImageOwnership(unpacker: Self.me)
        _ = try LayerWriter.write(directory: sandbox.root, to: sandbox.base + "/out.tar", options: options)
        let listing = try Self.listing(sandbox, sandbox.base + "/out.tar")
        #expect(listing.contains("drwxr-x--- 1500/1600 home/app/"), "\(listing)")
        #expect(listing.contains("-rw------- 1500/1600 home/app/f"), "\(listing)")
        #expect(listing.contains("-rw-r--r-- 0/0 etc/passwd"), "\(listing)")
        #expect(listing.contains("-rw-r--r-- \(Self.me.uid)/\(Self.me.gid) home/app/mine"), "\(listing)")
        let xattrs = try Self.output(sandbox, ["tar", "--xattrs", "--xattrs-include=*", "-tvvf", sandbox.base + "/out.tar"])
        #expect(!xattrs.contains("devenv"), "\(xattrs)")
    }

    /// A directory the layer implies (its parent of a new file) takes the lower layer's
    /// recorded owner, as overlayfs's copy-up keeps the lower one's.
    @Test func anImpliedDirectoryKeepsTheLowerOwner() throws {
        let sandbox = try Sandbox()
        let base = try sandbox.lowerLayer(Self.tree(), name: "base")
        var tar = TarBuilder()
        tar.file("home/app/new", Array("n".utf8))
        tar.finish()
        #expect(try sandbox.unpackConfined(try sandbox.layer(tar), lowers: .directories([base])) == nil)
        #expect(Self.owner(of: sandbox.root + "/home/app") == RecordedOwner(uid: 1500, gid: 1600))
        if Self.me.uid != 0 {
            #expect(Self.owner(of: sandbox.root + "/home") == RecordedOwner(uid: 0, gid: 0))
        }
    }

    /// A layer may not set devenv's own record: it is dropped like overlay's attributes.
    @Test func aLayersOwnRecordIsDropped() throws {
        let sandbox = try Sandbox()
        var tar = TarBuilder()
        tar.file("f", Array("f".utf8), uid: 1500, gid: 1500, pax: ["SCHILY.xattr.user.devenv.owner": Array("0:0".utf8)])
        tar.finish()
        let report = try sandbox.unpack(try sandbox.layer(tar))
        #expect(report.warnings.contains { $0.contains("user.devenv.owner dropped") }, "\(report.warnings)")
        #expect(Self.owner(of: sandbox.root + "/f") == RecordedOwner(uid: 1500, gid: 1500))
    }

    /// Per id: the record only for an id that is still the unpacking user's; other ids
    /// through the map; ids outside it as they are.
    @Test func imageOwnersPerID() {
        // devenv's keep-id mapping for uid 1001 with the range 200000:65536.
        let ranges: [ImageOwnership.Range] = [.init(imageID: 0, hostID: 200_000, count: 1001), .init(imageID: 1001, hostID: 1001, count: 1),
                                              .init(imageID: 1002, hostID: 201_001, count: 64535)]
        let ownership = ImageOwnership(unpacker: RecordedOwner(uid: 1001, gid: 1001), uids: ranges, gids: ranges)
        let record = RecordedOwner(uid: 0, gid: 42)
        #expect(ownership.imageOwner(uid: 1001, gid: 1001, recorded: record) == record)
        #expect(ownership.imageOwner(uid: 1001, gid: 1001, recorded: nil) == RecordedOwner(uid: 1001, gid: 1001))
        // A step chgrp'ed a copied-up node: its group is the step's, its owner the record's.
        #expect(ownership.imageOwner(uid: 1001, gid: 200_007, recorded: record) == RecordedOwner(uid: 0, gid: 7))
        #expect(ownership.imageOwner(uid: 201_499, gid: 200_000, recorded: record) == RecordedOwner(uid: 1500, gid: 0))
        #expect(ownership.imageOwner(uid: 5000, gid: 5000, recorded: nil) == RecordedOwner(uid: 5000, gid: 5000))
        #expect(RecordedOwner(xattrValue: Array("12:x".utf8)) == nil)
        #expect(RecordedOwner(xattrValue: RecordedOwner(uid: 7, gid: 8).xattrValue) == RecordedOwner(uid: 7, gid: 8))
    }

    static func output(_ sandbox: Sandbox, _ arguments: [String]) throws -> String {
        let file = sandbox.base + "/listing"
        #expect(try Shell.run(arguments, output: file) == 0)
        return try String(contentsOfFile: file, encoding: .utf8)
    }

    static func listing(_ sandbox: Sandbox, _ tar: String) throws -> [String] {
        try output(sandbox, ["tar", "-tv", "--numeric-owner", "-f", tar]).split(separator: "\n").map { line in
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            return "\(fields[0]) \(fields[1]) \(fields[5...].joined(separator: " "))"
        }
    }
}
