"""The local render queue: ``submit(spec)``, ``status(job)``, ``jobs()`` (implemented in Rust)."""

from ._shotline import render as _render

submit = _render.submit
status = _render.status
jobs = _render.jobs

__all__ = ["submit", "status", "jobs"]
