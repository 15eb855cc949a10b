//! HTTP(S) fetches for autoconfig and Autodiscover: our resolver, overrides, size cap, timeout.
