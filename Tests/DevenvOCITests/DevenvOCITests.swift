import XCTest

final class DevenvOCITestsPlaceholder: XCTestCase {}
