//! Discovery: every source concurrently → ranked candidates + attempts.
