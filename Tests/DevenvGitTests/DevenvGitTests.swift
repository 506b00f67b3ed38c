import XCTest

final class DevenvGitTestsPlaceholder: XCTestCase {}
