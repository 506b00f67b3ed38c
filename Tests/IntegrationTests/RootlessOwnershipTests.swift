@testable import DevenvTestSupport
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Issue 12, ownership: a rootless build commits the owners the image expects, the same
/// layers byte for byte as the build done as root (copies, `COPY --chown`, run steps that
/// touch a lower layer's directory or give files to other users); a devcontainer's
/// `remoteUser` writes the working tree as its owner; sessions leave the owner's files there.
@Suite(.enabled(if: Requirement.root(), "needs root to run containers and to act as the rootless test user"), .timeLimit(.minutes(20)))
struct RootlessOwnershipTests {
    /// The layers a build added on top of the base: their diff_ids and `tar -tv` listings
    /// ("MODE UID/GID PATH").
    struct Layers: Equatable, CustomStringConvertible {
        var diffIDs: [String]
        var listings: [[String]]

        var description: String { zip(diffIDs, listings).map { "\($0)\n  " + $1.joined(separator: "\n  ") }.joined(separator: "\n") }
    }

    static func layers(of project: StepProject, image: String, skippingBase: Bool = true) throws -> Layers {
        let inspected = try project.devenv(["image", "inspect", "--json", image])
        guard inspected.succeeded, let object = try JSONSerialization.jsonObject(with: Data(inspected.stdout.utf8)) as? [String: Any],
              let manifest = object["manifest"] as? [String: Any], let layers = manifest["layers"] as? [[String: Any]],
              let config = object["config"] as? [String: Any], let rootfs = config["rootfs"] as? [String: Any],
              let diffIDs = rootfs["diff_ids"] as? [String] else {
            throw DevenvProcess.Missing(what: "the built image \(image): \(inspected.stderr)")
        }
        // The first layer is the imported base.
        let listings = try layers.dropFirst(skippingBase ? 1 : 0).map { layer -> [String] in
            let digest = try #require(layer["digest"] as? String)
            let blob = "\(project.store)/blobs/sha256/\(digest.dropFirst("sha256:".count))"
            let listing = try DevenvProcess.run("/bin/sh", ["-c", "zstd -dcf '\(blob)' | tar -tv --numeric-owner"])
            return listing.stdout.split(separator: "\n").map { line in
                let fields = line.split(separator: " ", omittingEmptySubsequences: true)
                return "\(fields[0]) \(fields[1]) \(fields[5...].joined(separator: " "))"
            }
        }
        return Layers(diffIDs: Array(diffIDs.dropFirst(skippingBase ? 1 : 0)), listings: listings)
    }

    /// Builds the same project (manifest, files) as `user`: the image's added layers.
    static func build(as user: DevenvUser, manifest: String, files: [String: String], arguments: [String] = []) throws -> Layers {
        let project = try StepProject(as: user, manifest: manifest)
        for (path, contents) in files.sorted(by: { $0.key < $1.key }) {
            let directory = (path as NSString).deletingLastPathComponent
            if !directory.isEmpty {
                try FileManager.default.createDirectory(atPath: "\(project.root)/\(directory)", withIntermediateDirectories: true)
                if user == .rootless { try TestUser.ensure().own("\(project.root)/\(directory)") }
            }
            try project.write(path, contents)
        }
        let built = try project.devenv(["build", "--json"] + arguments)
        #expect(built.succeeded, "\(user): \(built.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(built.stdout.utf8)) as? [String: Any]
        let image = try #require(object?["image"] as? String, "\(user): \(built.stdout)")
        return try layers(of: project, image: image)
    }

    static func bothWays(manifest: String, files: [String: String], arguments: [String] = []) throws -> (root: Layers, rootless: Layers) {
        (try build(as: .root, manifest: manifest, files: files, arguments: arguments),
         try build(as: .rootless, manifest: manifest, files: files, arguments: arguments))
    }

    /// Item 1: a manifest `copy` step's files and the image directories it fills (/etc)
    /// are root's, not the user's.
    @Test func copyStepsRecordRootAsRootDoes() throws {
        try Requirement.require(root: true, programs: ["zstd"])
        let manifest = """
            [base]
            image = "base:it"

            [[step]]
            copy = ["tool.sh", "conf"]
            to = "/opt/app/"

            [[step]]
            copy = ["x.conf"]
            to = "/etc/"
            """
        let files = ["tool.sh": "#!/bin/sh\necho tool\n", "conf/a.txt": "a\n", "x.conf": "x\n"]
        let (root, rootless) = try Self.bothWays(manifest: manifest, files: files)
        #expect(root.listings == [["drwxr-xr-x 0/0 opt/", "drwxr-xr-x 0/0 opt/app/", "-rw-r--r-- 0/0 opt/app/a.txt", "-rw-r--r-- 0/0 opt/app/tool.sh"],
                                  ["drwxr-xr-x 0/0 etc/", "-rw-r--r-- 0/0 etc/x.conf"]], "\(root)")
        #expect(rootless == root, "rootless:\n\(rootless)\nroot:\n\(root)")
    }

    /// Items 1 and 2: a Dockerfile whose RUN adds accounts to /etc (overlay copies the base's
    /// /etc up), makes a home owned by uid 1500 and a file of 1500:1600, then COPY --chown
    /// by name, by number and without: every layer is what the rootful build makes.
    @Test func dockerfileOwnersAreTheImagesRootless() throws {
        try Requirement.require(root: true, programs: ["zstd"])
        let dockerfile = """
            FROM base:it
            RUN echo 'app:x:1500:1600::/home/app:/bin/sh' >> /etc/passwd && echo 'staff:x:1600:' >> /etc/group && touch /etc/x && mkdir /home && mkdir /home/app && chown 1500 /home/app && touch /home/app/f && chown 1500:1600 /home/app/f
            COPY --chown=app:staff tool.sh /home/app/tool.sh
            COPY --chown=1700 conf /srv/conf/
            COPY tool.sh /etc/tool.sh
            """
        let files = ["Dockerfile": dockerfile, "tool.sh": "#!/bin/sh\necho tool\n", "conf/a.txt": "a\n"]
        let (root, rootless) = try Self.bothWays(manifest: "[base]\nimage = \"base:it\"\n", files: files, arguments: ["--file", "Dockerfile"])
        #expect(root.listings.count == 4, "\(root)")
        #expect(root.listings.first?.contains("drwxr-xr-x 0/0 etc/") == true, "\(root)")
        #expect(root.listings.first?.contains("-rw-r--r-- 1500/1600 home/app/f") == true, "\(root)")
        #expect(root.listings.dropFirst().first == ["drwxr-xr-x 0/0 home/", "drwxr-xr-x 1500/0 home/app/", "-rw-r--r-- 1500/1600 home/app/tool.sh"], "\(root)")
        // Directories the copy creates are the --chown owner's too (as BuildKit makes them).
        #expect(root.listings.dropFirst(2).first == ["drwxr-xr-x 1700/1700 srv/", "drwxr-xr-x 1700/1700 srv/conf/", "-rw-r--r-- 1700/1700 srv/conf/a.txt"], "\(root)")
        #expect(rootless == root, "rootless:\n\(rootless)\nroot:\n\(root)")
    }

    /// `COPY --from` of what a stage's root left private (a 0600 file, a 0700 directory with
    /// a 0600 file of another owner, a symlink, a file in /root): rootless the user cannot read
    /// them in the stage's snapshots, so the namespace's root mirrors them (`StageMirror`); the
    /// layers are the rootful build's, and the step is cached the same way.
    @Test func copyFromAStagesPrivateFilesRootless() throws {
        try Requirement.require(root: true, programs: ["zstd"])
        let dockerfile = """
            FROM base:it AS build
            RUN echo secret > /s && chmod 600 /s && mkdir -m 700 /d && echo x > /d/f && chmod 600 /d/f && chown 1500:1600 /d/f && ln -s f /d/l && echo r > /root/r && chmod 400 /root/r
            FROM base:it
            COPY --from=build /s /s
            COPY --from=build /d /d
            COPY --from=build /root/r* /opt/
            """
        let (root, rootless) = try Self.bothWays(manifest: "[base]\nimage = \"base:it\"\n", files: ["Dockerfile": dockerfile],
                                                 arguments: ["--file", "Dockerfile"])
        #expect(root.listings == [["-rw------- 0/0 s"], ["drwxr-xr-x 0/0 d/", "-rw------- 1500/1600 d/f", "lrwxrwxrwx 0/0 d/l -> f"],
                                  ["drwxr-xr-x 0/0 opt/", "-r-------- 0/0 opt/r"]], "\(root)")
        #expect(rootless == root, "rootless:\n\(rootless)\nroot:\n\(root)")
    }

    /// Item 2 in a manifest: run steps on top of each other (the second modifies what the
    /// first made, as subordinate ids, and the base's /etc again).
    @Test func runStepsOverRunStepsKeepTheOwners() throws {
        try Requirement.require(root: true, programs: ["zstd"])
        let manifest = """
            [base]
            image = "base:it"

            [[step]]
            run = "mkdir -p /srv/data && chown 1500:1600 /srv/data && touch /etc/first"

            [[step]]
            run = "touch /srv/data/f /etc/second && chown 1500 /srv/data/f && chmod 750 /srv"
            """
        let (root, rootless) = try Self.bothWays(manifest: manifest, files: [:])
        #expect(root.listings.last == ["drwxr-xr-x 0/0 etc/", "-rw-r--r-- 0/0 etc/second", "drwxr-x--- 0/0 srv/",
                                       "drwxr-xr-x 1500/1600 srv/data/", "-rw-r--r-- 1500/0 srv/data/f"], "\(root)")
        #expect(rootless == root, "rootless:\n\(rootless)\nroot:\n\(root)")
    }

    /// Item 3: a devcontainer whose `remoteUser` (uid 1500, made by its Dockerfile) is not
    /// the owner of the working tree: its postCreateCommand writes there, and what it makes
    /// belongs to the owner on the host. The tree belongs to the test user (sudo on a user's
    /// checkout; rootless, the user's own). As root the tree is idmapped so its owner appears
    /// as uid 1500; rootless the remote user takes the host user's ids (`RemoteUserUID`,
    /// devcontainer.json's `updateRemoteUserUID`), its home with it.
    @Test(arguments: DevenvUser.allCases)
    func aRemoteUserWritesTheWorkingTree(_ user: DevenvUser) throws {
        try Requirement.require(root: true)
        let project = try StepProject(as: user, manifest: "[base]\nimage = \"base:it\"\n")
        try FileManager.default.removeItem(atPath: "\(project.root)/.devenv")
        try FileManager.default.createDirectory(atPath: "\(project.root)/.devcontainer", withIntermediateDirectories: true)
        try project.write(".devcontainer/Dockerfile", """
            FROM base:it
            RUN echo 'dev:x:1500:1500::/home/dev:/bin/sh' >> /etc/passwd && echo 'dev:x:1500:' >> /etc/group && mkdir -p /home/dev && chown 1500:1500 /home/dev
            """)
        try project.write(".devcontainer/devcontainer.json", """
            { "build": { "dockerfile": "Dockerfile" }, "remoteUser": "dev",
              "postCreateCommand": "id -u > created-by && mkdir made && echo x > made/f && ls -ln created-by | { read mode links uid rest; echo $uid > seen-as; } && touch /home/dev/img" }
            """)
        let owner = try TestUser.ensure()
        try owner.own(project.root)
        let built = try project.devenv(["build"])
        #expect(built.succeeded, "\(built.stderr)")
        let remoteUID = user == .root ? 1500 : owner.uid
        #expect(try String(contentsOfFile: "\(project.root)/created-by", encoding: .utf8) == "\(remoteUID)\n")
        #expect(try String(contentsOfFile: "\(project.root)/seen-as", encoding: .utf8) == "\(remoteUID)\n")
        for path in ["created-by", "made", "made/f"] {
            var info = stat()
            #expect(lstat("\(project.root)/\(path)", &info) == 0, "\(path)")
            #expect(info.st_uid == owner.uid && info.st_gid == owner.gid, "\(path): \(info.st_uid):\(info.st_gid)")
        }
        // The remote user still writes its own home in the image, and a session is that user.
        let remoteGID = user == .root ? 1500 : owner.gid
        #expect(try project.devenv(["run", "--", "stat", "-c", "%u:%g", "/home/dev/img"]).stdout == "\(remoteUID):\(remoteGID)\n")
        if user == .rootless {
            // The session runs as the host user's uid, which is now dev's.
            let session = try project.devenv(["run", "--", "sh", "-c", "id -un; id -u; echo $HOME"])
            #expect(session.stdout == "dev\n\(owner.uid)\n/home/dev\n", "\(session.stdout)\(session.stderr)")
        }
    }

    /// The one id space: a rootless store's snapshots hold the image's owners as the mapped
    /// subordinate ids (image root is the first subordinate id, a step's 7:8 the 8th and
    /// 9th), as rootless podman's do. The user alone cannot remove such trees; gc does (in
    /// the user namespace) and leaves nothing behind.
    @Test func rootlessSnapshotsHoldMappedOwnersAndGCRemovesThem() throws {
        try Requirement.require(root: true)
        let project = try StepProject(as: .rootless, manifest: """
            [base]
            image = "base:it"

            [[step]]
            run = "mkdir -p /srv/private && echo s > /srv/private/f && chown -R 7:8 /srv/private && chmod 700 /srv/private"

            """)
        let built = try project.devenv(["build", "--json"])
        #expect(built.succeeded, "\(built.stderr)")
        let image = try #require((try JSONSerialization.jsonObject(with: Data(built.stdout.utf8)) as? [String: Any])?["image"] as? String)
        let account = try TestUser.ensure()
        let snapshots = "\(project.store)/snapshots"
        let names = try FileManager.default.contentsOfDirectory(atPath: snapshots).filter { !$0.hasPrefix(".") && !$0.hasSuffix(".complete") }
        var info = stat()
        #expect(names.filter { lstat("\(snapshots)/\($0)/etc/passwd", &info) == 0 }.count == 1)
        #expect(info.st_uid == account.subordinateUID && info.st_gid == account.subordinateGID, "etc/passwd: \(info.st_uid):\(info.st_gid)")
        #expect(names.filter { lstat("\(snapshots)/\($0)/srv/private", &info) == 0 }.count == 1)
        #expect(info.st_uid == account.subordinateUID + 7 && info.st_gid == account.subordinateGID + 8, "srv/private: \(info.st_uid):\(info.st_gid)")

        try FileManager.default.removeItem(atPath: project.root)
        for name in [image, "base:it"] {
            let removed = try project.runner.devenv(["image", "rm", name], directory: project.scratch.path)
            #expect(removed.succeeded, "\(removed.stderr)")
        }
        let collected = try project.runner.devenv(["gc"], directory: project.scratch.path)
        #expect(collected.succeeded, "\(collected.stderr)")
        let left = try FileManager.default.contentsOfDirectory(atPath: snapshots)
        #expect(left.isEmpty, "\(left)")
    }

    /// `image import DIR` rootless: a tree a rootless tool made (files of subordinate ids)
    /// is recorded with the image's ids those map back to, as its snapshots would hold them;
    /// the user's own files keep the user's uid, which devenv's mapping keeps as itself.
    @Test func rootlessImportOfADirectoryRecordsTheImagesOwners() throws {
        try Requirement.require(root: true, programs: ["zstd"])
        let project = try StepProject(as: .rootless, manifest: "[base]\nimage = \"base:it\"\n")
        let account = try TestUser.ensure()
        let tree = project.scratch.file("tree")
        try FileManager.default.createDirectory(atPath: "\(tree)/etc", withIntermediateDirectories: true)
        try "f".write(toFile: "\(tree)/etc/f", atomically: false, encoding: .utf8)
        try "m".write(toFile: "\(tree)/mine", atomically: false, encoding: .utf8)
        try account.own(tree)
        #expect(lchown("\(tree)/etc", account.subordinateUID, account.subordinateGID) == 0)
        #expect(lchown("\(tree)/etc/f", account.subordinateUID + 7, account.subordinateGID + 8) == 0)
        let imported = try project.devenv(["image", "import", tree, "--tag", "localhost/tree:it"])
        #expect(imported.succeeded, "\(imported.stderr)")
        let layers = try Self.layers(of: project, image: "localhost/tree:it", skippingBase: false)
        #expect(layers.listings == [["drwxr-xr-x 0/0 etc/", "-rw-r--r-- 7/8 etc/f", "-rw-r--r-- \(account.uid)/\(account.gid) mine"]], "\(layers)")
    }

    /// Item 4: a session (root's, or the rootless user's own) leaves files in the working
    /// tree that belong to the tree's owner on the host. devenv has no `--user` flag: as
    /// root the session is container root acting as the owner; rootless it is the user.
    @Test(arguments: DevenvUser.allCases)
    func filesASessionMakesInTheTreeAreTheOwners(user: DevenvUser) throws {
        try Requirement.require(root: true)
        let project = try StepProject(as: user, manifest: "[base]\nimage = \"base:it\"\n")
        let owner = try TestUser.ensure()
        try owner.own(project.root)
        let ran = try project.devenv(["run", "--", "sh", "-c", "mkdir /workspace/out && touch /workspace/out/f && id -u"])
        #expect(ran.succeeded, "\(ran.stderr)")
        #expect(ran.stdout == (user == .root ? "0\n" : "\(owner.uid)\n"))
        for path in ["out", "out/f"] {
            var info = stat()
            #expect(lstat("\(project.root)/\(path)", &info) == 0, "\(path)")
            #expect(info.st_uid == owner.uid && info.st_gid == owner.gid, "\(path): \(info.st_uid):\(info.st_gid)")
        }
    }
}
