"""probe() returns the CLI's JSON objects; Project and render reach the same store as the CLI."""

import json
import os
import shutil
import subprocess

import pytest

import shotline

SHOTLINE = os.environ.get("SHOTLINE_BIN") or shutil.which("shotline")

# Under CI the binary is required: a test that needs it fails there instead of skipping.
needs_binary = pytest.mark.skipif(
    SHOTLINE is None and not os.environ.get("CI"),
    reason="needs the shotline binary (SHOTLINE_BIN)")


def write_png(path):
    """A real 2x1 RGB PNG, made by the standard library's zlib."""
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"\x00" + b"\xff\x00\x00" * 2
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 1, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    path.write_bytes(png)


def test_probe_file_and_sequence(tmp_path):
    for f in (1, 2, 4):
        write_png(tmp_path / f"img.{f:04d}.png")
    one = shotline.probe(str(tmp_path / "img.0001.png"))
    assert len(one) == 1 and one[0]["kind"] == "file"
    assert one[0]["status"] == "ok" and one[0]["width"] == 2 and one[0]["height"] == 1
    seq = shotline.probe(str(tmp_path / "img.####.png"))
    kinds = [r["kind"] for r in seq]
    assert kinds.count("file") == 3 and kinds[-1] == "sequence_summary"
    assert seq[-1]["missing"] in ("3", [3]) or "3" in json.dumps(seq[-1]["missing"])


def test_probe_reports_truncated_files_in_status(tmp_path):
    write_png(tmp_path / "a.png")
    data = (tmp_path / "a.png").read_bytes()
    (tmp_path / "a.png").write_bytes(data[:30])
    rec = shotline.probe(str(tmp_path / "a.png"))[0]
    assert rec["status"] != "ok"


@needs_binary
def test_probe_matches_cli_json(tmp_path):
    write_png(tmp_path / "a.png")
    cli = subprocess.run([SHOTLINE, "probe", "--json", str(tmp_path / "a.png")],
                         capture_output=True, text=True, check=True, cwd=tmp_path)
    assert [json.loads(l) for l in cli.stdout.splitlines()] == shotline.probe(str(tmp_path / "a.png"))


def test_probe_missing_path():
    with pytest.raises(FileNotFoundError):
        shotline.probe("/nonexistent/x.exr")


@needs_binary
def test_project_reads_what_the_cli_wrote_and_keeps_role_rules(tmp_path):
    env = dict(os.environ, SHOTLINE_USER="lead")
    run = lambda *a: subprocess.run([SHOTLINE, *a], capture_output=True, text=True,
                                     cwd=tmp_path, env=env)
    r = run("init", "--code", "DEMO", "--name", "Demo")
    assert r.returncode == 0, r.stderr
    r = run("shot", "add", "SH010", "--in", "1001", "--out", "1010")
    assert r.returncode == 0, r.stderr
    r = run("step", "add", "COMP", "--kind", "shot")
    assert r.returncode == 0, r.stderr
    p = shotline.Project(str(tmp_path), user="ana")
    assert [s["code"] for s in p.shots()] == ["SH010"]
    assert p.info()["code"] == "DEMO"
    assert isinstance(p.root, str) and os.path.samefile(p.root, tmp_path)
    assert p.versions() == []
    step = p.steps("shot")[0]["code"]
    assert p.status("SH010", step, state="WIP")["state"] == "WIP"
    with pytest.raises(shotline.ShotlineError) as e:
        p.status("SH010", step, state="APPROVED")
    env["SHOTLINE_USER"] = "ana"
    cli = run("status", "set", "SH010", step, "--state", "APPROVED")
    assert cli.returncode == 2 and str(e.value) in cli.stderr
    assert any(ev["action"].startswith("status") for ev in p.events())
    # Optimistic: only if still in the state the script saw.
    with pytest.raises(shotline.ShotlineError, match=r"is WIP \(set by ana"):
        p.status("SH010", step, state="REVIEW", if_state="TODO")
    assert p.status("SH010", step, state="REVIEW", if_state="WIP")["state"] == "REVIEW"
    with pytest.raises(shotline.ShotlineError):
        p.version(999)
    assert shotline.render.jobs(str(tmp_path)) == []
    with pytest.raises(ValueError, match="render job spec"):
        shotline.render.submit({"no_such_field": 1}, str(tmp_path))


@needs_binary
def test_publish_verifies_then_records_a_version_the_cli_lists(tmp_path):
    env = dict(os.environ, SHOTLINE_USER="lead")
    run = lambda *a: subprocess.run([SHOTLINE, *a], capture_output=True, text=True,
                                     cwd=tmp_path, env=env)
    assert run("init", "--code", "DEMO").returncode == 0
    assert run("shot", "add", "SH010", "--in", "1", "--out", "4").returncode == 0
    assert run("step", "add", "COMP", "--kind", "shot").returncode == 0
    comp = tmp_path / "comp"
    comp.mkdir()
    for f in (1, 2, 4):
        write_png(comp / f"comp.{f:04d}.png")
    p = shotline.Project(str(tmp_path))
    refused = p.publish("SH010", "COMP", str(comp / "comp.%04d.png"))
    assert refused["published"] is False and "version" not in refused
    assert p.versions() == []
    write_png(comp / "comp.0003.png")
    done = p.publish("SH010", "COMP", str(comp / "comp.%04d.png"), comment="first")
    assert done["published"] is True
    v = done["version"]
    assert v["number"] == 1 and v["files"]["frame_range"] == "1-4" and v["files"]["width"] == 2
    listed = [json.loads(l) for l in run("--json", "versions", "ls").stdout.splitlines()]
    assert [x["id"] for x in listed] == [v["id"]]
    assert listed[0]["comment"] == "first" and listed[0]["author"] == v["author"]


@needs_binary
def test_render_submit_queues_a_job_the_cli_runs_and_status_reads_back(tmp_path):
    env = dict(os.environ, SHOTLINE_USER="lead")
    run = lambda *a: subprocess.run([SHOTLINE, *a], capture_output=True, text=True,
                                     cwd=tmp_path, env=env)
    assert run("init", "--code", "DEMO").returncode == 0
    # A real job: each task writes its frames (real PNGs: the output is verified).
    write_png(tmp_path / "seed.png")
    (tmp_path / "out").mkdir()
    job = shotline.render.submit({
        "name": "touch", "frames": "1-4", "chunk": 2,
        "command": ["sh", "-c",
                    'for f in $(seq "$1" "$2"); do cp seed.png "out/t.$(printf %04d "$f").png"; done',
                    "sh", "{start}", "{end}"],
        "output": "out/t.%04d.png",
    }, str(tmp_path))
    assert isinstance(job, int) and job >= 1
    queued = shotline.render.status(job, str(tmp_path))
    assert queued["id"] == job and queued["name"] == "touch"
    assert queued["state"] == "queued" and queued["tasks"]["total"] == 2
    assert [j["id"] for j in shotline.render.jobs(str(tmp_path))] == [job]
    worker = run("render", "worker", "--until-idle")
    assert worker.returncode == 0, worker.stderr
    done = shotline.render.status(job, str(tmp_path))
    assert done["state"] == "done" and done["frames_done"] == 4 and done["progress"] == 1.0
    # The same summary the CLI prints.
    cli = json.loads(run("--json", "render", "status", str(job)).stdout)
    assert cli["state"] == "done" and cli["id"] == job
    # shot/step without output: the layout's render path; review presets are checked later.
    j2 = shotline.render.submit({"frames": "1", "command": ["true"], "shot": "SH010",
                                 "step": "COMP"}, str(tmp_path))
    detail = json.loads(run("--json", "render", "status", str(j2)).stdout)
    assert detail["output"].endswith("/renders/SH010/COMP/SH010_COMP.%04d.exr"), detail
    with pytest.raises(shotline.ShotlineError, match="step"):
        shotline.render.submit({"frames": "1", "command": ["true"], "shot": "SH010"},
                               str(tmp_path))
