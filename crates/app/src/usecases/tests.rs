//! Use-case tests with mock ports.
