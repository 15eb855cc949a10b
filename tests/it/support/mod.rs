//! Test harness: real servers on loopback, each stopped when its handle drops.
