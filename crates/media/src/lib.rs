//! shotline-media (in progress).
