//! Human renderer (filled in below).
