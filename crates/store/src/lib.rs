//! shotline-store (in progress).
