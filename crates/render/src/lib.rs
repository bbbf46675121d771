//! shotline-render (in progress).
