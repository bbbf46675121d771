"""find_sequences / FileSequence against fileseq on the same files."""

import os

import fileseq
import pytest

import shotline


def test_find_sequences_matches_fileseq(plate_dir):
    ours = {(s.basename, s.extension): s for s in shotline.find_sequences(str(plate_dir))}
    ref = [s for s in fileseq.findSequencesOnDisk(str(plate_dir)) if s.frameSet() is not None]
    assert len(ours) == len(ref) == 2
    for r in ref:
        s = ours[(r.basename(), r.extension())]
        assert list(s.frame_set) == list(r.frameSet())
        assert s.padding == len(r.padding()) * 1 or s.padding == 4
        assert s.frame(1001).endswith(r.frame(1001).split(os.sep)[-1])
    plate = ours[("plate.", ".exr")]
    assert list(plate.missing) == [1005]
    assert str(plate) == os.path.join(str(plate_dir), "plate.1001-1004,1006-1010#.exr")
    assert plate.format("printf", "none") == "plate.%04d.exr"
    assert plate.format("nuke", "span") == "plate.####.exr 1001-1010"
    paths = list(plate)
    assert len(paths) == len(plate) == 9
    assert all(os.path.exists(p) for p in paths)


def test_recursive_finds_subdirectories(plate_dir):
    flat = shotline.find_sequences(str(plate_dir))
    deep = shotline.find_sequences(str(plate_dir), recursive=True)
    assert len(deep) == len(flat) + 1
    dpx = [s for s in deep if s.extension == ".dpx"][0]
    assert dpx.padding == 3 and dpx.basename == "comp_v001."


def test_numbered_movies_are_files_not_sequences(tmp_path):
    # Deliberate difference from fileseq (docs/python.md): the media file-kind registry keeps
    # a numbered movie a single file, as `shotline ls` does.
    (tmp_path / "SH030_review_v001.mov").write_bytes(b"")
    for f in (1001, 1002):
        (tmp_path / f"plate.{f}.exr").write_bytes(b"")
    found = shotline.find_sequences(str(tmp_path))
    assert [(s.basename, s.extension) for s in found] == [("plate.", ".exr")]


def test_missing_directory_is_an_os_error(tmp_path):
    with pytest.raises(OSError):
        shotline.find_sequences(str(tmp_path / "nope"))


def test_file_sequence_pattern_matches_fileseq(plate_dir):
    pattern = os.path.join(str(plate_dir), "plate.1001-1010#.exr")
    ours, ref = shotline.FileSequence(pattern), fileseq.FileSequence(pattern)
    assert ours.basename() == ref.basename()
    assert ours.extension() == ref.extension()
    assert list(ours.frameSet()) == list(ref.frameSet())
    assert ours.frame(1003) == ref.frame(1003)
    found = ours.find()
    assert list(found.missing) == [1005]
    same = shotline.find_sequence(os.path.join(str(plate_dir), "plate.####.exr"))
    assert list(same.frame_set) == list(found.frame_set)


def test_bad_pattern_is_a_value_error():
    with pytest.raises(ValueError):
        shotline.FileSequence("plate.exr")
