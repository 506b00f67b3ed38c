import XCTest

final class DevenvArchiveTestsPlaceholder: XCTestCase {}
