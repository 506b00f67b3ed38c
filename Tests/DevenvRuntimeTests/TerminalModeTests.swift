@testable import DevenvRuntime
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct TerminalModeTests {
    /// A typical cooked terminal, as `stty sane` leaves it.
    func cooked() -> termios {
        var attributes = termios()
        attributes.c_iflag = tcflag_t(ICRNL | IXON | BRKINT | IMAXBEL | IUTF8)
        attributes.c_oflag = tcflag_t(OPOST | ONLCR)
        attributes.c_cflag = tcflag_t(CS7 | CREAD | PARENB)
        attributes.c_lflag = tcflag_t(ISIG | ICANON | ECHO | ECHOE | ECHOK | IEXTEN | ECHOCTL | ECHOKE)
        withUnsafeMutableBytes(of: &attributes.c_cc) { bytes in
            bytes[Int(VMIN)] = 0
            bytes[Int(VTIME)] = 3
            bytes[Int(VINTR)] = 3
        }
        return attributes
    }

    @Test func rawModeMatchesCfmakeraw() {
        var expected = cooked()
        cfmakeraw(&expected)
        let raw = TerminalMode.raw(cooked())
        #expect(raw.c_iflag == expected.c_iflag)
        #expect(raw.c_oflag == expected.c_oflag)
        #expect(raw.c_cflag == expected.c_cflag)
        #expect(raw.c_lflag == expected.c_lflag)
        var rawCopy = raw
        var expectedCopy = expected
        let rawCC = withUnsafeBytes(of: &rawCopy.c_cc) { Array($0) }
        let expectedCC = withUnsafeBytes(of: &expectedCopy.c_cc) { Array($0) }
        #expect(rawCC == expectedCC)
    }

    @Test func rawModeTurnsOffSignalKeysAndEcho() {
        let raw = TerminalMode.raw(cooked())
        #expect(raw.c_lflag & tcflag_t(ISIG) == 0)
        #expect(raw.c_lflag & tcflag_t(ECHO | ICANON) == 0)
        #expect(raw.c_cflag & tcflag_t(CSIZE) == tcflag_t(CS8))
        // Control characters other than VMIN/VTIME are kept, so restoring is exact.
        var copy = raw
        #expect(withUnsafeBytes(of: &copy.c_cc) { $0[Int(VINTR)] } == 3)
    }

    @Test func sizeRoundTripsThroughARealPty() throws {
        let master = open("/dev/ptmx", O_RDWR | O_NOCTTY)
        try #require(master >= 0)
        defer { close(master) }
        TerminalMode.setSize(winsize(ws_row: 33, ws_col: 101, ws_xpixel: 0, ws_ypixel: 0), on: master)
        let size = try #require(TerminalMode.size(of: master) as winsize?)
        #expect(size.ws_row == 33 && size.ws_col == 101)
    }
}
