//! shotline-sequences (in progress).
