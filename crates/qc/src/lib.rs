//! shotline-qc (in progress).
