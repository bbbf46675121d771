"""shotline.FrameSet against fileseq's FrameSet on a table of cases."""

import pickle

import fileseq
import pytest

import shotline

# Expressions both libraries accept, compared frame by frame (set order included).
SAME = [
    "1", "-3", "1-10", "10-1", "1-10x2", "20-1x5", "1-10x4", "1-10y3", "1-10:2",
    "1,2,3,5,7,9,10", "17,-3,1", "5,1-6", "1001-1100", "-5--1", "-3-3", "1-100x3,50-60",
    "1-10,5-15", "20-1x-1",
]


@pytest.mark.parametrize("expr", SAME)
def test_frames_match_fileseq(expr):
    ours, ref = shotline.FrameSet(expr), fileseq.FrameSet(expr)
    assert list(ours) == list(ref)
    assert len(ours) == len(ref)
    assert ours.start() == ref.start()
    assert ours.end() == ref.end()
    assert ours.frange == ref.frange == expr
    assert str(ours) == str(ref)
    assert list(ours.normalize()) == list(ref.normalize())
    assert ours.isConsecutive() == ref.isConsecutive()
    assert ours.invertedFrameRange() == ref.invertedFrameRange() or (
        list(fileseq.FrameSet(ours.invertedFrameRange() or "0").__iter__())
        == list(fileseq.FrameSet(ref.invertedFrameRange() or "0"))
    )
    for f in list(ref)[:5]:
        assert f in ours
    assert (max(ref) + 1) not in ours


@pytest.mark.parametrize("expr", SAME)
def test_indexing_matches_fileseq(expr):
    ours, ref = shotline.FrameSet(expr), fileseq.FrameSet(expr)
    for i in (0, 1, -1, -2, len(ref) // 2):
        if -len(ref) <= i < len(ref):
            assert ours[i] == ref[i]
    with pytest.raises(IndexError):
        ours[len(ref)]
    assert list(ours[1:4]) == list(ref)[1:4]


@pytest.mark.parametrize("zfill", [0, 4])
def test_inverted_padding(zfill):
    assert (shotline.FrameSet("1-100x2").invertedFrameRange(zfill)
            == fileseq.FrameSet("1-100x2").invertedFrameRange(zfill))


@pytest.mark.parametrize("a,b", [("1-10", "5-15"), ("1-20x2", "1-20x3"), ("1-5", "10-20")])
def test_set_operations_hold_the_same_frames(a, b):
    x, y = shotline.FrameSet(a), shotline.FrameSet(b)
    rx, ry = fileseq.FrameSet(a), fileseq.FrameSet(b)
    assert set(x | y) == set(rx | ry)
    assert set(x & y) == set(rx & ry)
    assert set(x - y) == set(rx - ry)
    assert set(x ^ y) == set(rx ^ ry)
    assert x.issubset(y) == rx.issubset(ry)
    assert x.isdisjoint(y) == rx.isdisjoint(ry)


def test_construction_from_frames_and_equality():
    assert list(shotline.FrameSet([3, 1, 2, 3])) == [3, 1, 2]
    assert shotline.FrameSet([1, 2, 3]) == shotline.FrameSet("3-1")
    assert shotline.FrameSet("1-3") == [1, 2, 3]
    assert hash(shotline.FrameSet("1-3")) == hash(shotline.FrameSet("3,2,1"))
    assert shotline.FrameSet(7).start() == 7
    assert pickle.loads(pickle.dumps(shotline.FrameSet("1-9x2"))) == shotline.FrameSet("1-9x2")


@pytest.mark.parametrize("expr,column", [("1-20X5", 5), ("1-20x0", 6), ("a-z", 1), ("1-", 3)])
def test_parse_errors_are_value_errors_naming_the_character(expr, column):
    with pytest.raises(ValueError, match=f"at character {column}"):
        shotline.FrameSet(expr)


def test_huge_ranges_stay_cheap():
    fs = shotline.FrameSet("1-1000000000x3")
    assert len(fs) == 333_333_334
    assert fs[-1] == 1_000_000_000
    assert fs.invertedFrameRange() == "1-999999999y3"
    assert 999_999_997 in fs and 999_999_998 not in fs


def test_empty_set_raises_on_start():
    with pytest.raises(IndexError):
        shotline.FrameSet([]).start()


def test_slicing_a_huge_set_never_lists_it():
    fs = shotline.FrameSet("1-1000000000")
    assert list(fs[10:13]) == [11, 12, 13]
    assert list(fs[-2:]) == [999_999_999, 1_000_000_000]
    with pytest.raises(ValueError, match="limit"):
        fs[::2]
