//! Nothing here: the tests in tests/ are the example (docs/snapshot-testing.md).
