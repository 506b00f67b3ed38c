import DevenvPlan

/// devcontainer.json's `updateRemoteUserUID` (on by default on Linux), for a rootless devenv:
/// the remote user's uid and gid become the host user's, so its lifecycle commands and
/// shells write the working tree, which the host user owns, and what they make there is the
/// host user's. devenv's one id mapping keeps the host user's uid as itself, so nothing
/// else shifts (mapping the user's uid to the remote user's instead would give the files
/// earlier steps made, the remote user's home among them, other owners). As the
/// Dev Containers CLI does it: the passwd entry is rewritten, the primary group's gid too
/// unless another group has the new one, and the home directory is chowned; nothing
/// changes when the remote user is root or unknown, or another user has the uid already.
public struct RemoteUserUID: Sendable, Equatable {
    public var uid: UInt32
    public var gid: UInt32

    public init(uid: UInt32, gid: UInt32) {
        self.uid = uid
        self.gid = gid
    }

    /// The run step (as root) that gives `user` these ids in the image.
    func step(for user: String) -> RunStep {
        RunStep(command: ["/bin/sh", "-c", Self.script, "devenv-update-remote-user-uid", user, String(uid), String(gid)])
    }

    /// Whether `user` (a name or a uid, with an optional `:group`) names root.
    static func isRoot(_ user: String) -> Bool {
        let name = user.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        return name.isEmpty || name == "root" || name == "0"
    }

    /// POSIX sh and sed (busybox has both); the user and ids are arguments, never script text.
    static let script = #"""
        set -eu
        user=${1%%:*} uid=$2 gid=$3
        entry=$(while IFS=: read -r name _ u g _ home _; do
            if [ "$name" = "$user" ] || [ "$u" = "$user" ]; then echo "$name:$u:$g:$home"; break; fi
        done < /etc/passwd)
        if [ -z "$entry" ]; then echo "devenv: remote user $user is not in /etc/passwd: its uid stays" >&2; exit 0; fi
        name=${entry%%:*}; rest=${entry#*:}; old_uid=${rest%%:*}; rest=${rest#*:}; old_gid=${rest%%:*}; home=${rest#*:}
        [ "$old_uid" = "$uid" ] && [ "$old_gid" = "$gid" ] && exit 0
        taken=$(while IFS=: read -r n _ u _; do if [ "$u" = "$uid" ] && [ "$n" != "$name" ]; then echo "$n"; break; fi; done < /etc/passwd)
        if [ "$old_uid" != "$uid" ] && [ -n "$taken" ]; then echo "devenv: uid $uid is $taken's in the image: $name keeps uid $old_uid" >&2; exit 0; fi
        group=$(while IFS=: read -r n _ g _; do if [ "$g" = "$gid" ]; then echo "$n"; break; fi; done < /etc/group)
        if [ "$old_gid" != "$gid" ] && [ -n "$group" ]; then gid=$old_gid; fi
        sed -i "s/^$name:\([^:]*\):[^:]*:[^:]*:/$name:\1:$uid:$gid:/" /etc/passwd
        if [ "$old_gid" != "$gid" ]; then sed -i "s/^\([^:]*:[^:]*:\)$old_gid:/\1$gid:/" /etc/group; fi
        if [ -n "$home" ] && [ "$home" != / ] && [ -d "$home" ]; then chown -R "$uid:$gid" "$home"; fi
        """#
}
