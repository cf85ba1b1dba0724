"""Hostile and broken inputs (issue #10 items 4-8): nothing outside the input is read, every
published image decodes whole, one pixel limit, one-line errors, BOMs, empty inputs."""

from __future__ import annotations

import hashlib
import io
import json
import os
import struct
import time
import zlib
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from pipelines.cli.main import app
from pipelines.core.context import Reject
from pipelines.core.images import MAX_PIXELS, header_size, image_row
from pipelines.core.parquet import read_table
from pipelines.mmd.builder import MMDBuilder
from pipelines.mmd.generator import GeneratorConfig, generate
from tests.conftest import build


def jpeg(seed: int, size: int = 48) -> bytes:
    buf = io.BytesIO()
    Image.effect_noise((size, size), 40 + seed).convert("RGB").save(buf, "JPEG")
    return buf.getvalue()


def bomb_png(width: int = 30000, height: int = 30000) -> bytes:
    """A valid PNG header declaring width x height, with a few bytes of pixel data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- the one decode rule --------------------------------------------------------------------------
def test_the_pixel_limit_refuses_a_bomb_from_its_header_without_decoding():
    data = bomb_png()
    t0 = time.perf_counter()
    with pytest.raises(Reject, match="too large"):
        header_size(data)
    with pytest.raises(Reject, match="too large"):
        image_row(data, "bomb.png", None)
    assert time.perf_counter() - t0 < 2  # a 30000x30000 decode would take many seconds and 2.7 GB
    with pytest.raises(Reject, match="too large"):  # just above the limit (PIL itself would only warn)
        header_size(bomb_png(MAX_PIXELS // 1000 + 1, 1000))
    assert header_size(bomb_png(6000, 6000)) == (6000, 6000)


def test_a_truncated_jpeg_with_an_intact_header_is_not_published():
    data = jpeg(1, 96)
    cut = data[: len(data) * 2 // 3]
    assert Image.open(io.BytesIO(cut)).size == (96, 96)  # the header alone looks fine
    with pytest.raises(Reject, match="cannot decode image"):
        image_row(cut, "cut.jpg", None)
    assert image_row(data, "ok.jpg", None)["width"] == 96


# -- MMD: containment, decode, links --------------------------------------------------------------
@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    raw = root / "raw"
    generate(GeneratorConfig(out=str(raw), dialogs=8, seed=2, states_fraction=0.0))
    outside = root / "outside"
    outside.mkdir()
    secret = jpeg(7)
    (outside / "x.jpg").write_bytes(secret)
    images = raw / "images"
    (images / "evil.jpg").symlink_to(outside / "x.jpg")
    (images / "loop1.jpg").symlink_to(images / "loop2.jpg")
    (images / "loop2.jpg").symlink_to(images / "loop1.jpg")
    (images / "dangling.jpg").symlink_to(images / "nothere.jpg")
    (images / "cut.jpg").write_bytes(jpeg(3, 96)[:900])
    (images / "bomb.png").write_bytes(bomb_png())
    with open(raw / "url2img.txt", "a") as fh:
        fh.write("http://evil.example/passwd.jpg /etc/passwd\n")
    refs = ["../../outside/x.jpg", str(outside / "x.jpg"), "http://evil.example/passwd.jpg", "evil.jpg", "cut.jpg", "bomb.png"]
    victim = sorted((raw / "dialogs" / "train").glob("*.json"))[0]
    doc = json.loads(victim.read_text())
    doc.append({"speaker": "system", "utterance": {"nlg": "look", "images": refs, "false images": None}})
    victim.write_text(json.dumps(doc))
    out = root / "out"
    m = build(MMDBuilder(raw=str(raw)), out)
    return {"out": out, "m": m, "secret": secret, "refs": refs, "victim": victim.stem}


def test_references_outside_the_image_folder_are_missing_not_read(hostile):
    out, m = hostile["out"], hostile["m"]
    missing = {
        r["image_ref"]: r["reason"] for r in read_table(str(out), "missing_images").to_pylist() if r["dialog_id"] == hostile["victim"]
    }
    assert set(missing) == set(hostile["refs"])
    for ref in hostile["refs"][:4]:
        assert missing[ref].startswith("outside"), (ref, missing[ref])
    assert missing["cut.jpg"].startswith("undecodable") and "too large" in missing["bomb.png"]
    ids = {i for r in read_table(str(out), "turns").to_pylist() for i in r["image_ids"]}
    published = {r["image_id"] for r in read_table(str(out), "images", columns=["image_id"]).to_pylist()}
    assert sha(hostile["secret"]) not in ids | published
    assert sha(Path("/etc/passwd").read_bytes()) not in ids | published
    assert m["counts_reconcile"] and (m["integrity"]["dangling"], m["integrity"]["duplicates"]) == ({}, {})


def test_links_that_loop_dangle_or_leave_the_folder_are_dead_letters(hostile):
    dead = read_table(str(hostile["out"]), "dead_letters").to_pylist()
    by_file = {Path(d["source"]).name: d for d in dead}
    assert by_file["evil.jpg"]["stage"] == "input_files" and by_file["evil.jpg"]["reason"].startswith("outside")
    assert by_file["loop1.jpg"]["reason"] == by_file["loop2.jpg"]["reason"] == "symbolic link loop"
    assert by_file["dangling.jpg"]["reason"].startswith("dangling symbolic link")
    assert by_file["cut.jpg"]["stage"] == "images" and by_file["cut.jpg"]["reason"] == "cannot decode image"
    assert "too large" in by_file["bomb.png"]["reason"]


def test_identical_image_files_publish_one_images_row(tmp_path):
    raw = tmp_path / "raw"
    generate(GeneratorConfig(out=str(raw), dialogs=6, seed=4, states_fraction=0.0))
    first = sorted((raw / "images").glob("*.jpg"))[0]
    (raw / "images" / "zz_copy.jpg").write_bytes(first.read_bytes())
    m = build(MMDBuilder(raw=str(raw)), tmp_path / "out")
    ids = read_table(str(tmp_path / "out"), "images", columns=["image_id"]).column("image_id").to_pylist()
    assert len(ids) == len(set(ids)) and m["stats"]["image_duplicate_files"] == 1
    assert m["stages"]["image.duplicates"] == {"in": 1, "out": 0, "dead": 0, "filtered": 1}


def test_a_dialog_copied_into_another_split_is_a_dead_letter(tmp_path):
    raw = tmp_path / "raw"
    generate(GeneratorConfig(out=str(raw), dialogs=6, seed=4, states_fraction=0.0))
    src = sorted((raw / "dialogs" / "train").glob("*.json"))[0]
    (raw / "dialogs" / "valid").mkdir(exist_ok=True)
    (raw / "dialogs" / "valid" / src.name).write_bytes(src.read_bytes())
    m = build(MMDBuilder(raw=str(raw)), tmp_path / "out")
    dialogs = read_table(str(tmp_path / "out"), "dialogs").to_pylist()
    assert [d["split"] for d in dialogs if d["dialog_id"] == src.stem] == ["train"]
    dead = [d for d in read_table(str(tmp_path / "out"), "dead_letters").to_pylist() if d["locator"] == src.stem]
    assert len(dead) == 1 and dead[0]["split"] == "valid" and "duplicate dialog id" in dead[0]["reason"]
    assert m["counts_reconcile"]


# -- one-line errors (exit 2) ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def small_raw(tmp_path_factory):
    raw = tmp_path_factory.mktemp("small") / "raw"
    generate(GeneratorConfig(out=str(raw), dialogs=4, seed=1, states_fraction=0.5))
    return raw


def _one_line_exit_2(args: list[str], needle: str):
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 2, res.output
    text = res.output.strip()
    assert "\n" not in text and text.startswith("error: ") and needle in text and "Traceback" not in text, text


def test_user_errors_are_one_line_exit_2(small_raw, tmp_path):
    raw = str(small_raw)
    base = ["build", "mmd", "--raw", raw, "--quiet", "--workers", "1"]
    _one_line_exit_2([*base, "--out", str(tmp_path / "o1"), "--workers", "-1"], "--workers")
    _one_line_exit_2([*base, "--out", str(tmp_path / "o2"), "--states", str(tmp_path)], "a folder")
    bad_parquet = tmp_path / "states.parquet"
    bad_parquet.write_bytes(b"PAR1 not really parquet")
    _one_line_exit_2([*base, "--out", str(tmp_path / "o3"), "--states", str(bad_parquet)], "not a readable Parquet file")
    _one_line_exit_2(["inspect", str(tmp_path)], "no manifest.json")
    (tmp_path / "file").write_text("x")
    _one_line_exit_2([*base, "--out", str(tmp_path / "file" / "sub")], "--out")
    truncated = tmp_path / "images.parquet"
    truncated.write_bytes(b"PAR1" + b"\0" * 100)
    _one_line_exit_2(["mask", "--in", str(truncated), "--out", str(tmp_path / "m"), "--quiet", "--workers", "1"], "not a readable Parquet")
    images = tmp_path / "imgs"
    images.mkdir()
    (images / "a.jpg").write_bytes(jpeg(1))
    _one_line_exit_2(
        ["mask", "--in", str(images), "--out", str(tmp_path / "m2"), "--quiet", "--set", "limits.max_pixels=abc"], "limits.max_pixels"
    )


def test_a_malformed_image_id_json_is_one_line_exit_2(tmp_path):
    raw = tmp_path / "raw"
    generate(GeneratorConfig(out=str(raw), dialogs=4, seed=1, fmt="mmd2"))
    (next(raw.rglob("image_id.json"))).write_text('["not an object"]')
    _one_line_exit_2(["build", "mmd", "--raw", str(raw), "--out", str(tmp_path / "o"), "--quiet", "--workers", "1"], "image_id.json")


def test_empty_dialog_files_exit_2_in_every_builder(tmp_path):
    runner = CliRunner()
    cases = {
        "mmd": ("dialogs/train/d1.json", ""),
        "simmc": ("simmc2.1_dials_dstc11_train.json", ""),
        "jddc": ("data_train.txt", ""),
        "redial": ("train_data.jsonl", "\n"),
        "inspired": ("test.tsv", ""),
    }
    for dataset, (name, text) in cases.items():
        raw = tmp_path / dataset
        (raw / name).parent.mkdir(parents=True, exist_ok=True)
        (raw / name).write_text(text)
        if dataset == "redial":
            (raw / "movies_with_mentions.csv").write_text("movieId,movieName,nbMentions\n1,A (2000),1\n")
        res = runner.invoke(
            app, ["build", dataset, "--raw", str(raw), "--out", str(tmp_path / f"out-{dataset}"), "--quiet", "--workers", "1"]
        )
        assert res.exit_code == 2, (dataset, res.output)
        assert "\n" not in res.output.strip() and res.output.startswith("error: "), (dataset, res.output)


# -- JDDC: BOM and a linear look-back ---------------------------------------------------------------
class CountingReader(io.BytesIO):
    """A file that counts the bytes read from it."""

    read_bytes = 0

    def read(self, n=-1):
        data = super().read(n)
        self.read_bytes += len(data)
        return data


def test_jddc_look_back_reads_a_long_line_a_bounded_number_of_times():
    from pipelines.jddc.reader import _previous_key

    for size in (1 << 20, 8 << 20):  # one message line of 1 MB and of 8 MB, then the next line
        line = b"s1\tshop\tsku\t" + b"x" * size + b"\t0\n"
        fh = CountingReader(line + b"s2\tshop\tsku\thi\t1\n")
        assert _previous_key(fh, len(line)) == b"s1"
        assert fh.read_bytes <= 2 * len(line) + 4096  # linear: the long line is passed over at most twice


def test_jddc_byte_order_mark_does_not_split_the_first_session(tmp_path):
    from pipelines.core.io import UTF8_BOM, iter_lines
    from pipelines.jddc.reader import OwnedRange, iter_owned_sessions

    text = "s1\t0\t\t你好\t0\ns1\t0\t\t在的\t1\ns2\t0\t\t谢谢\t0\n".encode()
    path = tmp_path / "data_train.txt"
    path.write_bytes(UTF8_BOM + text)
    sessions = list(iter_owned_sessions(str(path), 0, -1, OwnedRange()))
    assert [(s.key, len(s.lines)) for s in sessions] == [(b"s1", 2), (b"s2", 1)]
    second_range = list(iter_owned_sessions(str(path), 8, -1, OwnedRange()))  # starts inside session s1
    assert [s.key for s in second_range] == [b"s2"]
    kb = UTF8_BOM + "1001\t品类\t电水壶\n".encode()
    assert [line for _, line in iter_lines(kb)] == ["1001\t品类\t电水壶".encode()]


# -- one refused reference drops what depends on it, not the build (issue #21 item 2) ------------
def _plant(raw: Path, ref: str) -> tuple[str, str]:
    """Put `ref` first among the positives of the first recommendation turn found; returns the
    dialog id and the sample id it affects."""
    for path in sorted((raw / "dialogs").rglob("*.json")):
        doc = json.loads(path.read_text())
        for index, utt in enumerate(doc):
            u = utt.get("utterance", {})
            if utt.get("speaker") == "system" and u.get("images") and u.get("false images"):
                u["images"] = [ref] + u["images"][1:]
                path.write_text(json.dumps(doc))
                return path.stem, f"{path.stem}:{index}"
    raise AssertionError("no recommendation turn in the corpus")


BAD_REFERENCES = ["parent"] + [pytest.param(c, marks=pytest.mark.slow) for c in ("absolute", "missing", "url2img_outside", "colliding_ids")]


@pytest.mark.parametrize("case", BAD_REFERENCES)
def test_one_refused_reference_in_200_dialogs_publishes_the_rest_with_a_dead_letter(tmp_path, case):
    raw = tmp_path / "raw"
    fmt = "mmd2" if case == "colliding_ids" else "saha"
    generate(GeneratorConfig(out=str(raw), dialogs=200, seed=3, image_size=8, states_fraction=0.0, fmt=fmt))
    outside = tmp_path / "outside.jpg"
    outside.write_bytes(jpeg(1, 8))
    if case == "parent":
        ref = "../outside.jpg"
    elif case == "absolute":
        ref = str(outside)
    elif case == "missing":
        ref = "NOPE.jpg"
    elif case == "url2img_outside":
        ref = "http://img.example/evil.jpg"
        with open(raw / "url2img.txt", "a") as fh:
            fh.write(f"{ref} ../outside.jpg\n")
    else:  # two URLs share one id in image_id.json: the id is ambiguous
        (mapping,) = json.loads((raw / "image_id.json").read_text())
        urls = sorted(mapping)
        mapping[urls[1]] = ref = mapping[urls[0]]
        (raw / "image_id.json").write_text(json.dumps([mapping]))
    dialog_id, sample_id = _plant(raw, ref)
    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["build", "mmd", "--raw", str(raw), "--out", str(out), "--quiet", "--workers", "1"])
    assert res.exit_code == 0, res.output
    m = json.loads((out / "manifest.json").read_text())
    assert m["status"] == "ok" and m["counts_reconcile"] and m["integrity"]["dangling"] == {}
    dialogs = read_table(str(out), "dialogs", columns=["dialog_id"]).column("dialog_id").to_pylist()
    assert len(dialogs) >= 199 and dialog_id in dialogs
    dead = [d for d in read_table(str(out), "dead_letters").to_pylist() if d["stage"] == "rec_samples.references"]
    assert any(ref in d["reason"] and sample_id in d["reason"] for d in dead), dead
    assert not os.path.isabs(dead[0]["source"])
    stage = m["stages"]["rec_samples.references"]
    assert stage["dead"] >= 1 and stage["out"] > stage["dead"] and stage["in"] == stage["out"] + stage["dead"] + stage["filtered"]


# -- options are validated before any work (issue #21 item 4) ------------------------------------
@pytest.mark.parametrize(
    "extra, needle",
    [
        (["--quite"], "unknown option --quite (did you mean --quiet?)"),
        (["--workerz", "3"], "unknown option --workerz (did you mean --workers?)"),
        (["--dask_clinet_address=tcp://x:1"], "did you mean --dask_client_address?"),
        (["--runner", "NoSuchRunner"], "--runner NoSuchRunner: no such Beam runner"),
        (["--context-turns", "-3"], "--context-turns must be 0 or more, got -3"),
        (["--shard-mib", "-1"], "--shard-mib must be 0 or more"),
    ],
)
def test_unknown_or_out_of_range_options_exit_2_before_any_work(small_raw, tmp_path, extra, needle):
    out = tmp_path / "out"
    _one_line_exit_2(["build", "mmd", "--raw", str(small_raw), "--out", str(out), "--workers", "1", *extra], needle)
    assert not out.exists() and not (tmp_path / ".out.builds").exists()  # refused before the lock or a snapshot


def test_every_builder_refuses_an_unknown_option_and_generators_refuse_negative_counts(tmp_path):
    for dataset in ("mmd", "simmc", "jddc", "redial"):
        _one_line_exit_2(["build", dataset, "--raw", str(tmp_path), "--out", str(tmp_path / "o"), "--quite"], "did you mean --quiet?")
    _one_line_exit_2(["generate", "mmd", "--out", str(tmp_path / "g"), "--dialogs", "-5"], "--dialogs must be 0 or more, got -5")
    assert not (tmp_path / "g").exists()


def test_standard_beam_options_still_pass_through(small_raw, tmp_path):
    out = tmp_path / "out"
    res = CliRunner().invoke(
        app,
        ["build", "mmd", "--raw", str(small_raw), "--out", str(out), "--quiet", "--workers", "1", "--job_name=x", "--save_main_session"],
    )
    assert res.exit_code == 0, res.output
    beam = json.loads((out / "manifest.json").read_text())["beam"]["options"]
    assert beam.get("job_name") == "x"


@pytest.mark.slow
def test_a_worker_killed_mid_shard_is_one_line_naming_its_shard(tmp_path):
    import subprocess
    import sys

    raw = tmp_path / "raw"
    generate(GeneratorConfig(out=str(raw), dialogs=150, seed=2, images=False, rounds=(8, 10)))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1]), "MMDIAL_FAULT": "shard_started@1"}
    cmd = [sys.executable, "-m", "pipelines.cli.main", "build", "mmd", "--raw", str(raw), "--out", str(tmp_path / "out")]
    res = subprocess.run([*cmd, "--quiet", "--workers", "2", "--shard-mib", "1"], env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 1, res.stderr
    lines = [ln for ln in (res.stdout + res.stderr).splitlines() if ln.strip()]
    assert len(lines) == 1 and "shard 1 (of 2)" in lines[0] and "killed by signal 9" in lines[0], lines
    env.pop("MMDIAL_FAULT")
    assert (
        subprocess.run([*cmd, "--quiet", "--workers", "2", "--shard-mib", "1"], env=env, capture_output=True, timeout=300).returncode == 0
    )


# -- no absolute local path in a published table (issue #21 item 5) ------------------------------
def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _strings(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)


@pytest.mark.parametrize("name", ["mmd", "simmc", "jddc", "redial", "inspired", "mask"])
def test_no_published_table_holds_an_absolute_local_path(tmp_path, name):
    """Built from an absolute --raw (with malformed records, so dead letters exist too): every
    string of every table is free of the machine's folders."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from tests.consumer_builds import generate_raw, make_builder

    raw = generate_raw(name, tmp_path)
    if name == "mmd":  # a malformed dialog and a product file: dead letters name their sources
        next((raw / "dialogs" / "train").glob("*.json")).write_text("{not json")
        next((raw / "knowledge" / "products").glob("*.json")).write_text("[1]")
    assert raw.is_absolute()
    out = tmp_path / "out"
    m = build(make_builder(name, raw), out)
    assert m["status"] == "ok"
    found = {}
    for path in sorted(out.glob("*/*.parquet")):
        table = pq.read_table(path)
        for col in table.column_names:
            if pa.types.is_binary(table.schema.field(col).type) or pa.types.is_large_binary(table.schema.field(col).type):
                continue
            for value in table.column(col).to_pylist():
                for s in _strings(value):
                    if str(tmp_path) in s or s.startswith("/"):
                        found.setdefault(f"{path.parent.name}.{col}", s)
    assert found == {}, found
    if name == "mmd":
        dead = read_table(str(out), "dead_letters").to_pylist()
        assert {d["source"] for d in dead} >= {
            "dialogs/train/" + next(iter(sorted(d["locator"] for d in dead if d["stage"] == "parse"))) + ".json"
        }


# -- an empty side file is a warning, or an error where its table is required (issue #21 item 6) -
def test_an_empty_states_file_warns_and_an_mmd_v3_build_refuses_it(small_raw, tmp_path):
    empty = tmp_path / "states.jsonl"
    empty.write_text("\n  \n")
    out = tmp_path / "out"
    res = CliRunner().invoke(
        app, ["build", "mmd", "--raw", str(small_raw), "--out", str(out), "--states", str(empty), "--quiet", "--workers", "1"]
    )
    assert res.exit_code == 0, res.output
    assert "warning: the states file states.jsonl holds no records" in res.output
    m = json.loads((out / "manifest.json").read_text())
    assert m["status"] == "ok" and any("states.jsonl holds no records" in w for w in m["warnings"])
    base = ["build", "mmd", "--raw", str(small_raw), "--states", str(empty), "--v3", "--quiet", "--workers", "1"]
    _one_line_exit_2([*base, "--out", str(tmp_path / "v3")], "holds no records, and this build needs it")
    assert not (tmp_path / "v3").exists()
