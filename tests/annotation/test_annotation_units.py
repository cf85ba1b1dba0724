"""Server-free checks: labeling configs, task builders, exporters, QC arithmetic, secrets, resume logic."""

from __future__ import annotations

import json
import math
import os
import stat
from fractions import Fraction

import pytest
from annotation_testkit import jddc_tables

from annotation import credentials, qc
from annotation import results as R
from annotation.client import ConfigError, TransientError, validate_label_config
from annotation.flows import FLOWS, get_flow
from annotation.flows.discourse import EDU_LABEL
from annotation.flows.privacy_check import BOXED, CLEAN
from annotation.importer import import_specs
from annotation.server import sanitized_env
from annotation.tasks import KEY_FIELD, TaskSpec
from annotation.taxonomy import discourse_relations
from schemas import get


# -- labeling configs ---------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(FLOWS))
def test_every_flow_config_validates_offline(name):
    flow = FLOWS[name]
    validate_label_config(flow.label_config(flow.params({})))


def test_invalid_config_is_rejected_before_any_push():
    with pytest.raises(ConfigError):
        validate_label_config('<View><Text name="t" value="$t"/><Choices name="c" toName="nowhere"><Choice value="a"/></Choices></View>')


def test_review_config_validates():
    validate_label_config(qc.REVIEW_CONFIG)


# -- task builders ------------------------------------------------------------------------
def _turns(rows):
    return get("turns").to_arrow(
        [
            {
                "dataset": "mmd",
                "dialog_id": d,
                "split": "train",
                "turn_index": i,
                "speaker": s,
                "text": t,
                "text_templated": None,
                "image_refs": [],
                "image_ids": [],
                "item_ids": [],
                "annotations": None,
            }
            for d, i, s, t in rows
        ]
    )


def test_dialog_state_tasks_per_user_turn_prefilled_gold_over_predicted():
    turns = _turns(
        [("d1", 0, "user", "hi"), ("d1", 1, "system", "hello"), ("d1", 2, "user", "red shirts"), ("d2", 0, "user", "blue jeans")]
    )
    states = get("dialog_states").to_arrow(
        [
            {
                "dataset": "mmd",
                "dialog_id": "d1",
                "split": "train",
                "turn_index": 2,
                "slots": [("color", "red")],
                "source": "predicted",
                "annotator": None,
                "created_at": None,
            },
            {
                "dataset": "mmd",
                "dialog_id": "d1",
                "split": "train",
                "turn_index": 2,
                "slots": [("color", "red"), ("type", "shirt")],
                "source": "gold",
                "annotator": None,
                "created_at": None,
            },
            {
                "dataset": "mmd",
                "dialog_id": "d2",
                "split": "train",
                "turn_index": 0,
                "slots": [("fabric", "denim")],
                "source": "gold",
                "annotator": None,
                "created_at": None,
            },
        ]
    )
    flow = get_flow("dialog_state")
    params = {"slots": ["color", "type"]}
    built = flow.build({"turns": turns, "dialog_states": states}, params, {})
    assert built.records_in == 3 and len(built.tasks) + len(built.dead) == 3
    assert [t.unit for t in built.tasks] == ["d1:0", "d1:2"]
    prefilled = built.tasks[1]
    assert prefilled.prefill_source == "gold" and sorted(R.text_of(prefilled.prefill, f) for f in ("slot_00", "slot_01")) == [
        "red",
        "shirt",
    ]
    assert built.dead[0]["locator"] == "d2:0" and "fabric" in built.dead[0]["reason"]
    assert flow.params({"dialog_states": states}) == {"slots": ["color", "fabric", "type"]}


def test_task_key_is_content_not_delivery():
    tables = jddc_tables(2)
    flow = get_flow("summary")
    a = flow.build(tables, {}, {}).tasks
    b = flow.build(tables, {}, {}).tasks
    assert [t.key for t in a] == [t.key for t in b] and len({t.key for t in a}) == 2
    # an image shown by URL instead of inline bytes is the same task
    images = tables["images"].to_pylist()
    for r in images:
        r["data"], r["uri"] = None, f"https://img.example/{r['source_key']}"
    c = flow.build({"turns": tables["turns"], "images": get("images").to_arrow(images)}, {}, {}).tasks
    assert [t.key for t in c] == [t.key for t in a] and c[0].data["images"][0].startswith("https://")
    # a changed text is a different task
    turns = tables["turns"].to_pylist()
    turns[0]["text"] = "改了"
    d = flow.build({"turns": get("turns").to_arrow(turns), "images": tables["images"]}, {}, {}).tasks
    assert d[0].key != a[0].key and d[1].key == a[1].key


# -- exporters ------------------------------------------------------------------------------
def _discourse_data(n=4):
    return {"session_id": "S", "edu_turns": list(range(n)), "edus": [{"speaker": "user", "text": f"[{i}] x"} for i in range(n)]}


def _regions(n=4):
    return [R.paragraph_label(f"r{i}", "edu", "dialogue", i, f"[{i}] x", EDU_LABEL) for i in range(n)]


def test_discourse_export_links_and_problems():
    flow = get_flow("discourse")
    params = flow.params({})
    rel = discourse_relations()
    data = _discourse_data()
    result = _regions() + [
        R.relation("r1", "r0", rel[0]),
        R.relation("r0", "r2", "Imperative/Rely to suggestion/Acceptance"),  # arrow drawn backwards; paper spelling
        R.relation("r3", "r1", rel[1]),
        R.relation("r3", "r2", rel[2]),  # second, different link for EDU 3
    ]
    out = flow.export(data, result, params)
    assert out.lines == [
        {"session_id": "S", "turn_index": 1, "parent_turn_index": 0, "relation": rel[0]},
        {"session_id": "S", "turn_index": 2, "parent_turn_index": 0, "relation": "Imperative/Reply to suggestion/Acceptance"},
    ]
    assert out.problems == [("S:3", "EDU has 2 different links; exactly one is allowed")]
    missing = flow.export(
        data,
        _regions() + [R.relation("r1", "r0", rel[0]), R.relation("r2", "r2", rel[0]), R.relation("r3", "r0", "Nope/Nope/Nope")],
        params,
    )
    assert [(loc, reason.split(",")[0]) for loc, reason in missing.problems] == [
        ("S:2", "relation from an EDU to itself"),
        ("S:3", "relation label must be one level-3 relation of Table 12"),
        ("S:2", "EDU has no link to an earlier EDU"),
        ("S:3", "EDU has no link to an earlier EDU"),
    ]
    assert len(missing.lines) == 1


def test_query_rewrite_export():
    flow = get_flow("query_rewrite")
    data = {"session_id": "S", "turn_index": 3}
    yes = flow.export(data, [R.choices("rewritable", "query", ["yes"]), R.textarea("rewritten", "query", " 屏幕显示E3 ")], {})
    assert yes.lines == [{"session_id": "S", "turn_index": 3, "rewritable": True, "rewritten": "屏幕显示E3"}]
    no = flow.export(data, [R.choices("rewritable", "query", ["no"]), R.textarea("rewritten", "query", "ignored")], {})
    assert no.lines == [{"session_id": "S", "turn_index": 3, "rewritable": False, "rewritten": None}]
    bad = flow.export(data, [R.choices("rewritable", "query", ["yes"])], {})
    assert bad.lines == [] and "empty" in bad.problems[0][1]


def test_privacy_export_pixels_and_conflicts():
    flow = get_flow("privacy_check")
    data = {"image_id": "ab", "width": 200, "height": 100}
    box = R.rectangle("b", "box", "image", 10, 20, 30, 40, "phone", 200, 100)
    out = flow.export(data, [box, R.choices("verdict", "image", [BOXED])], {})
    assert out.lines == [{"image_id": "ab", "status": "masked", "boxes": [{"x": 20, "y": 20, "w": 60, "h": 40, "label": "phone"}]}]
    assert flow.export(data, [R.choices("verdict", "image", [CLEAN])], {}).lines[0]["status"] == "clean"
    assert "clean but has boxes" in flow.export(data, [box, R.choices("verdict", "image", [CLEAN])], {}).problems[0][1]
    assert "neither" in flow.export(data, [], {}).problems[0][1]
    edge = R.rect_to_pixels({"x": 95, "y": -5, "width": 20, "height": 10}, 200, 100)
    assert edge == {"x": 190, "y": 0, "w": 10, "h": 5}


# -- QC arithmetic --------------------------------------------------------------------------
def test_operating_characteristic_exact():
    assert qc.sample_size(100) == 10 and qc.sample_size(5) == 1 and qc.pass_mark(10) == 9
    oc = {round(r["p"], 2): r for r in qc.operating_characteristic(100)}
    assert sorted(oc) == [round(0.80 + i / 100, 2) for i in range(21)]
    assert oc[0.9]["p_pass_binomial"] == pytest.approx(0.9**10 + 10 * 0.9**9 * 0.1, abs=1e-15)
    assert oc[0.8]["p_pass_binomial"] == pytest.approx(0.8**10 + 10 * 0.8**9 * 0.2, abs=1e-15)
    hyper = (math.comb(90, 10) + math.comb(90, 9) * math.comb(10, 1)) / math.comb(100, 10)
    assert oc[0.9]["p_pass_hypergeometric"] == pytest.approx(hyper, abs=1e-15)
    assert oc[1.0]["p_pass_binomial"] == oc[1.0]["p_pass_hypergeometric"] == 1.0
    assert qc.p_pass_binomial(Fraction(1, 2), 2, 1) == Fraction(3, 4)
    values = [oc[p]["p_pass_hypergeometric"] for p in sorted(oc)]
    assert values == sorted(values)  # monotone in p


def test_draw_is_seeded_and_recorded_by_group_and_round():
    keys = [f"k{i:03d}" for i in range(100)]
    a = qc.draw(keys, 7, 0, 1)
    assert len(a) == 10 and a == qc.draw(list(reversed(keys)), 7, 0, 1)
    assert a != qc.draw(keys, 7, 0, 2) and a != qc.draw(keys, 7, 1, 1) and a != qc.draw(keys, 8, 0, 1)


# -- secrets and environment ---------------------------------------------------------------
def test_secret_files_are_0600_and_loose_ones_refused(tmp_path, monkeypatch):
    path = tmp_path / "token"
    credentials.write_secret(path, "abc123")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600 and credentials.read_secret(path) == "abc123"
    os.chmod(path, 0o644)
    with pytest.raises(credentials.CredentialError, match="0600"):
        credentials.read_secret(path)
    monkeypatch.setenv(credentials.TOKEN_ENV, "from-env")
    assert credentials.resolve_token(path) == "from-env"
    monkeypatch.delenv(credentials.TOKEN_ENV)
    with pytest.raises(credentials.CredentialError):
        credentials.resolve_token(None)


def test_server_environment_is_sanitised():
    env = sanitized_env({"PATH": "/bin", "HOST": "laptop", "USERNAME": "me", "LABEL_STUDIO_PORT": "1", "HEARTEX_X": "y"})
    assert env["PATH"] == "/bin" and not {"HOST", "USERNAME", "LABEL_STUDIO_PORT", "HEARTEX_X"} & set(env)
    assert env["LABEL_STUDIO_LATEST_VERSION_CHECK"] == "false"


# -- resume logic with a fake server that commits a batch and then drops the connection ------
class FlakyServer:
    def __init__(self, fail_on_batch: int):
        self.tasks: list[dict] = []
        self.calls = 0
        self.fail_on_batch = fail_on_batch

    def import_tasks(self, project_id, tasks):
        self.calls += 1
        self.tasks.extend(tasks)  # committed...
        if self.calls == self.fail_on_batch:
            raise TransientError("connection reset")  # ...but the answer is lost
        return len(tasks)

    def whoami(self):
        return {}

    def list_tasks(self, project_id):
        return [{"id": i, "data": t["data"], "annotations": []} for i, t in enumerate(self.tasks)]


def test_import_resumes_without_duplicates_when_a_committed_batch_is_unacknowledged():
    specs = [TaskSpec("summary", f"s{i}", f"s{i}", {"i": i}, {"session_id": f"s{i}"}) for i in range(25)]
    fake = FlakyServer(fail_on_batch=2)
    created, recoveries = import_specs(fake, 1, specs, lambda s: 0, batch_size=10)
    keys = [t["data"][KEY_FIELD] for t in fake.tasks]
    assert recoveries == 1 and created == 25 and len(keys) == len(set(keys)) == 25


def test_schema_docs_are_current():
    from schemas.docs import render

    with open(os.path.join(os.path.dirname(__file__), "..", "..", "docs", "schemas.md"), encoding="utf-8") as fh:
        assert fh.read() == render()


def test_server_commands_work_without_a_data_dir(tmp_path, monkeypatch):
    """`mmdial annotate server start|status|stop` as the README writes them: the data dir defaults to
    $XDG_DATA_HOME/mmdial/label-studio, and the other commands find that server without --data-dir."""
    from typer.testing import CliRunner

    from annotation.cli import connect
    from pipelines.cli.main import app

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    for var in ("MMDIAL_LS_DATA_DIR", "MMDIAL_LS_URL", "MMDIAL_LS_TOKEN", "MMDIAL_LS_TOKEN_FILE"):
        monkeypatch.delenv(var, raising=False)
    default = tmp_path / "mmdial" / "label-studio"
    res = CliRunner().invoke(app, ["annotate", "server", "status"])
    assert res.exit_code == 3 and f"not running (data {default})" in res.output, res.output
    assert CliRunner().invoke(app, ["annotate", "server", "stop"]).output.strip() == "not running"
    # a server once started there (its state file) is what `push`/`pull` talk to when given neither option
    (default / "mmdial").mkdir(parents=True)
    (default / "mmdial" / "server.json").write_text(json.dumps({"pid": 0, "port": 1, "url": "http://127.0.0.1:1"}))
    res = CliRunner().invoke(app, ["annotate", "status"])
    assert res.exit_code == 2 and f"the Label Studio server of {default} is not running" in res.stderr, res.output
    import typer

    with pytest.raises(typer.Exit):  # the same one-line error when called as a library
        connect(None, None)


def test_s3_store_reads_its_keys_also_through_label_studios_proxy_urls():
    import base64

    from annotation.images import S3Store

    class FakeS3:  # the two calls the store makes, in memory
        def __init__(self):
            self.objects = {}

        def put_object(self, Bucket, Key, Body, ContentType):  # noqa: N803 - boto3's names
            self.objects[(Bucket, Key)] = Body

        def get_object(self, Bucket, Key):  # noqa: N803
            import io

            return {"Body": io.BytesIO(self.objects[(Bucket, Key)])}

    store = S3Store("s3://bucket/run", s3=FakeS3())
    url = store.put("images/qc/x.png", b"png")
    assert url == "s3://bucket/run/images/qc/x.png"
    proxied = f"/tasks/7/resolve/?fileuri={base64.urlsafe_b64encode(url.encode()).decode()}"
    assert store.owns(proxied) and store.read(proxied) == store.read(url) == b"png"
    assert not store.owns("s3://other/run/images/qc/x.png") and store.read("/data/local-files/?d=x") is None
