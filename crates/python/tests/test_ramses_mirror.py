"""Project.publish / Project.status push to the Ramses mirror like the CLI, against a real
`shotline ramses serve` daemon (another project standing in for the Ramses side)."""

import json
import os
import shutil
import socket
import subprocess
import warnings

import pytest

import shotline

from test_probe_project import write_png

SHOTLINE = os.environ.get("SHOTLINE_BIN") or shutil.which("shotline")

# Under CI the binary is required: the test fails instead of skipping.
needs_binary = pytest.mark.skipif(
    SHOTLINE is None and not os.environ.get("CI"),
    reason="needs the shotline binary (SHOTLINE_BIN)")


def cli(root, *args, user="lead"):
    assert SHOTLINE, "CI needs the shotline binary (SHOTLINE_BIN)"
    env = dict(os.environ, SHOTLINE_USER=user, NO_COLOR="1")
    env.pop("SHOTLINE_CONFIG", None)
    env.pop("SHOTLINE_DB", None)
    r = subprocess.run([SHOTLINE, *args], capture_output=True, text=True, cwd=root, env=env)
    assert r.returncode == 0, r.stderr
    return r.stdout


def make_project(root):
    root.mkdir()
    cli(root, "init", "--code", "DEMO")
    cli(root, "shot", "add", "SH010", "--in", "1", "--out", "3")
    cli(root, "step", "add", "COMP", "--kind", "shot")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def daemon(tmp_path):
    """`shotline ramses serve` over a project of its own; yields (root, port)."""
    root = tmp_path / "ramses-side"
    make_project(root)
    env = dict(os.environ, SHOTLINE_USER="lead", NO_COLOR="1")
    proc = subprocess.Popen([SHOTLINE, "ramses", "serve", "--port", "0", "--json"], cwd=root,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True)
    try:
        line = proc.stdout.readline()
        port = int(json.loads(line)["serving"].rsplit(":", 1)[1])
        yield root, port
    finally:
        proc.kill()
        proc.wait()


def configure(root, port):
    with open(root / "shotline.yaml", "a") as f:
        f.write(f"ramses:\n  port: {port}\n  timeout_ms: 10000\n  sync: true\n")


@needs_binary
def test_status_and_publish_from_python_reach_ramses(tmp_path, daemon):
    ramses_root, port = daemon
    here = tmp_path / "here"
    make_project(here)
    configure(here, port)
    p = shotline.Project(str(here), user="lead")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a push that worked warns nothing
        assert p.status("SH010", "COMP", state="WIP", completion=30)["state"] == "WIP"
    seen = json.loads(cli(ramses_root, "--json", "status", "ls").splitlines()[0])
    assert (seen["state"], seen["completion"]) == ("WIP", 30)

    comp = here / "comp"
    comp.mkdir()
    for f in (1, 2, 3):
        write_png(comp / f"comp.{f:04d}.png")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        done = p.publish("SH010", "COMP", str(comp / "comp.%04d.png"), state="REVIEW",
                         comment="from python")
    assert done["published"] is True
    seen = json.loads(cli(ramses_root, "--json", "status", "ls").splitlines()[0])
    assert seen["state"] == "REVIEW"
    published = (ramses_root / "05-SHOTS" / "DEMO_S_SH010" / "DEMO_S_SH010_COMP" / "_published"
                 / "001_REVIEW")
    assert sorted(x.name for x in published.iterdir()) == [
        "DEMO_S_SH010_COMP.0001.png", "DEMO_S_SH010_COMP.0002.png",
        "DEMO_S_SH010_COMP.0003.png", "_ramses_data.json"]
    side = json.loads((published / "_ramses_data.json").read_text())
    assert side["DEMO_S_SH010_COMP.0002.png"]["comment"] == "from python"
    # Nothing left in the outbox: the CLI's sync has nothing to do.
    sync = json.loads(cli(here, "--json", "ramses", "sync"))
    assert sync["pushed"] == [] and sync["pending"] == 0


@needs_binary
def test_daemon_down_warns_and_keeps_the_change_for_sync(tmp_path):
    here = tmp_path / "here"
    make_project(here)
    configure(here, free_port())
    p = shotline.Project(str(here), user="lead")
    with pytest.warns(UserWarning, match="kept in the outbox"):
        status = p.status("SH010", "COMP", state="WIP")
    assert status["state"] == "WIP", "the local change stands"
    pending = subprocess.run([SHOTLINE, "--json", "ramses", "sync"], cwd=here,
                             capture_output=True, text=True,
                             env=dict(os.environ, SHOTLINE_USER="lead"))
    assert pending.returncode == 1
    assert json.loads(pending.stdout)["pending"] == 1
