"""Shared fixtures: trees of real files the tests create themselves."""

import pathlib

import pytest


@pytest.fixture
def plate_dir(tmp_path: pathlib.Path) -> pathlib.Path:
    """plate.1001-1010.exr without 1005, render.%04d.png 1-3, and a notes file."""
    for f in range(1001, 1011):
        if f != 1005:
            (tmp_path / f"plate.{f}.exr").write_bytes(b"")
    for f in range(1, 4):
        (tmp_path / f"render.{f:04d}.png").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("hi")
    sub = tmp_path / "sub"
    sub.mkdir()
    for f in range(1, 6):
        (sub / f"comp_v001.{f:03d}.dpx").write_bytes(b"")
    return tmp_path
