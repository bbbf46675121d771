//! shotline-ingest (in progress).
