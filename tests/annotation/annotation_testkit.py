"""Test kit: synthetic JDDC-like Parquet inputs, and a scripted annotator that submits results through the
API exactly as the Label Studio editor would."""

from __future__ import annotations

import cv2
import numpy as np

from annotation import results as R
from annotation.flows.dialog_state import _slot_field
from annotation.flows.discourse import EDU_LABEL
from annotation.flows.privacy_check import BOXED, CLEAN
from annotation.taxonomy import discourse_relations
from schemas import get


# -- synthetic inputs written with the schemas ------------------------------------------------
def jpeg(seed: int, size: int = 48) -> bytes:
    img = np.full((size, size, 3), 40 + (seed * 37) % 200, np.uint8)
    cv2.putText(img, str(seed % 10), (8, size - 10), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (255, 255, 255), 2)
    ok, buf = cv2.imencode(".jpg", img)
    assert ok
    return buf.tobytes()


def jddc_tables(n_sessions: int, dataset: str = "jddc", privacy_status: str = "masked") -> dict:
    """JDDC-like sessions: user text, user image, system text, user text (+image every other session), system text.

    The images carry `privacy_status` (masked by default: what the privacy stage leaves for the crowd)."""
    import hashlib

    turns, images = [], {}
    for s in range(n_sessions):
        sid = f"S{s:04d}"
        rows = [
            ("user", "你好，我买的电饭煲有问题", []),
            ("user", "", [s * 2]),
            ("system", "您好，请问是哪里有问题呢？", []),
            ("user", "屏幕显示E3，看图" if s % 2 == 0 else "好的谢谢", [s * 2 + 1] if s % 2 == 0 else []),
            ("system", "这是温度传感器故障，可以申请售后维修。", []),
        ]
        for i, (speaker, text, imgs) in enumerate(rows):
            ids = []
            for k in imgs:
                data = jpeg(k)
                iid = hashlib.sha256(data).hexdigest()
                images[iid] = {
                    "dataset": dataset,
                    "image_id": iid,
                    "split": "shared",
                    "source_key": f"{hashlib.md5(data).hexdigest()}.jpg",
                    "uri": None,
                    "data": data,
                    "width": 48,
                    "height": 48,
                    "format": "jpeg",
                    "source": "file",
                    "privacy_status": privacy_status,
                    "privacy_audit": None,
                }
                ids.append(iid)
            turns.append(
                {
                    "dataset": dataset,
                    "dialog_id": sid,
                    "split": "train",
                    "turn_index": i,
                    "speaker": speaker,
                    "text": text,
                    "text_templated": None,
                    "image_refs": [images[x]["source_key"] for x in ids],
                    "image_ids": ids,
                    "item_ids": [],
                    "annotations": None,
                }
            )
    return {"turns": get("turns").to_arrow(turns), "images": get("images").to_arrow(sorted(images.values(), key=lambda r: r["image_id"]))}


def annotate_all(client, project_id: int, make_result, email: str = "annotator@example.org", lead_time: float = 7.5) -> list[dict]:
    """Annotate every task without a live annotation; returns the created annotations."""
    from annotation.versions import current_annotation

    uid = client.create_user(email)
    made = []
    for t in client.list_tasks(project_id):
        if current_annotation(t) is not None:
            continue
        result = make_result(t["data"])
        if result is not None:
            made.append(client.create_annotation(t["id"], result, lead_time=lead_time, completed_by=uid))
    return made


def dialog_state_result(slots: list[str]):
    def make(data: dict) -> list[dict]:
        values = {"color": f"c{data['turn_index']}", "type": "shirt" if data["turn_index"] % 2 else "none"}
        return [R.textarea(_slot_field(slots.index(k)), "utterance", v) for k, v in values.items() if k in slots]

    return make


def query_rewrite_result(data: dict) -> list[dict]:
    if data["turn_index"] % 2 == 1:  # image-only run: not rewritable
        return [R.choices("rewritable", "query", ["no"])]
    return [
        R.choices("rewritable", "query", ["yes"]),
        R.textarea("rewritten", "query", f"电饭煲屏幕显示E3是什么问题（会话{data['session_id']}）"),
    ]


def discourse_result(data: dict) -> list[dict]:
    rels = discourse_relations()
    turns = data["edu_turns"]
    regions = [R.paragraph_label(f"r{t}", "edu", "dialogue", i, data["edus"][i]["text"], EDU_LABEL) for i, t in enumerate(turns)]
    links = [R.relation(f"r{t}", f"r{turns[i - 1]}", rels[i % len(rels)]) for i, t in enumerate(turns) if i > 0]
    return regions + links


def summary_result(data: dict) -> list[dict]:
    trivial = [
        R.paragraph_label(f"t{i}", "trivial", "dialogue", i, e["text"], "greeting")
        for i, e in enumerate(data["edus"])
        if "你好" in e["text"] or "您好" in e["text"]
    ]
    return trivial + [R.textarea("summary", "dialogue", f"用户反映电饭煲故障（{data['session_id']}），客服建议售后维修。")]


def privacy_result(data: dict) -> list[dict]:
    w, h = data["width"], data["height"]
    if int(data["image_id"], 16) % 2 == 0:
        return [R.choices("verdict", "image", [CLEAN])]
    return [R.rectangle("b1", "box", "image", 10.0, 20.0, 50.0, 25.0, "phone", w, h), R.choices("verdict", "image", [BOXED])]


# -- a person at the Label Studio web UI ---------------------------------------------------------
class WebAnnotator:
    """An annotator as the crowd works: signs up through the organisation's invite link, then uses the
    web session (cookie + CSRF) for "next task", submit, update and skip, exactly the calls the editor makes."""

    def __init__(self, url: str, admin_token: str, email: str, password: str = "Crowd-pass-2026!"):
        import httpx

        self.url = url.rstrip("/")
        self.email = email
        invite = httpx.get(f"{self.url}/api/invite", headers={"Authorization": f"Token {admin_token}"}, timeout=60).json()["token"]
        self.http = httpx.Client(base_url=self.url, follow_redirects=True, timeout=120)
        self.http.get(f"/user/signup/?token={invite}")
        form = {"email": email, "password": password, "csrfmiddlewaretoken": self.http.cookies.get("csrftoken"), "how_find_us": "x"}
        r = self.http.post(f"/user/signup/?token={invite}", data=form, headers={"Referer": f"{self.url}/user/signup/"})
        assert r.status_code == 200, r.status_code
        me = self.http.get("/api/current-user/whoami")
        assert me.status_code == 200, me.text[:300]
        self.id = me.json()["id"]

    def _headers(self) -> dict:
        return {"X-CSRFToken": self.http.cookies.get("csrftoken"), "Referer": f"{self.url}/"}

    def next(self, project_id: int) -> dict | None:
        """The task Label Studio's "next task" serves this annotator (None: "there are no tasks")."""
        r = self.http.get(f"/api/projects/{project_id}/next")
        if r.status_code == 404:
            return None
        assert r.status_code == 200, r.text[:300]
        return r.json()

    def submit(self, task_id: int, result: list[dict], lead_time: float = 6.0) -> dict:
        r = self.http.post(f"/api/tasks/{task_id}/annotations/", json={"result": result, "lead_time": lead_time}, headers=self._headers())
        assert r.status_code == 201, r.text[:300]
        return r.json()

    def skip(self, task_id: int) -> dict:
        r = self.http.post(f"/api/tasks/{task_id}/annotations/", json={"result": [], "was_cancelled": True}, headers=self._headers())
        assert r.status_code == 201, r.text[:300]
        return r.json()

    def update(self, annotation_id: int, result: list[dict]) -> dict:
        r = self.http.patch(f"/api/annotations/{annotation_id}/", json={"result": result}, headers=self._headers())
        assert r.status_code == 200, r.text[:300]
        return r.json()

    def edit_project(self, project_id: int, **fields) -> int:
        return self.http.patch(f"/api/projects/{project_id}/", json=fields, headers=self._headers()).status_code

    def work_through(self, project_id: int, make_result, limit: int = 1000) -> list[dict]:
        """Take tasks from "next" until there are none; submit make_result(task) for each."""
        done = []
        while len(done) < limit:
            task = self.next(project_id)
            if task is None:
                break
            done.append(self.submit(task["id"], make_result(task["data"])))
        return done
