"""A person at the Label Studio web UI, in a real headless Chromium (Debian's `chromium`, driven by Playwright).

The browser is the system one (`$MMDIAL_CHROMIUM`, default /usr/bin/chromium: `make test` installs
Debian's package); Playwright's own browser download is never used (nothing may download at run
time). The annotator signs up through the organisation's invite link like the crowd does, and then
opens labelling pages, reads them and submits through the editor's buttons.
"""

from __future__ import annotations

import json
import os
import shutil

#: flags that work in a container without a GPU, a sandbox or a network
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)
VIEWPORT = {"width": 1280, "height": 800}


def chromium_path() -> str | None:
    path = os.environ.get("MMDIAL_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    return path if path and os.path.exists(path) else None


class BrowserAnnotator:
    """One annotator's browser session (its own profile and cookies)."""

    def __init__(
        self, playwright, url: str, admin_token: str, email: str, profile_dir: str, password: str = "Crowd-pass-2026!", artefacts=None
    ):
        import httpx

        self.artefacts = artefacts  # where a page that failed to open is photographed

        self.url = url.rstrip("/")
        self.email = email
        # a fresh profile per annotator (--user-data-dir): nothing carried over between runs
        self.context = playwright.chromium.launch_persistent_context(
            profile_dir,
            executable_path=chromium_path(),
            headless=True,
            args=list(CHROMIUM_FLAGS[1:]),
            viewport=VIEWPORT,
            locale="zh-CN",
        )
        self.context.set_default_timeout(60_000)
        self.page = self.context.pages[0] if self.context.pages else self.context.new_page()
        #: (path, status) of every image-store request the page made
        self.local_files: list[tuple[str, int]] = []
        self.page.on("response", self._record)
        invite = httpx.get(f"{self.url}/api/invite", headers={"Authorization": f"Token {admin_token}"}, timeout=60).json()["token"]
        p = self.page
        p.goto(f"{self.url}/user/signup/?token={invite}")
        p.fill("input[name=email]", email)
        p.fill("input[name=password]", password)
        how = p.locator("input[name=how_find_us], select[name=how_find_us]")
        if how.count():
            if how.first.evaluate("e => e.tagName") == "SELECT":
                how.first.select_option(index=1)
            else:
                how.first.fill("invite")
        p.locator("button[type=submit], input[type=submit]").first.click()
        p.wait_for_load_state("networkidle")
        me = self.context.request.get(f"{self.url}/api/current-user/whoami")
        assert me.status == 200, f"sign-up through the invite link failed: {me.status} at {p.url}"
        self.id = me.json()["id"]

    def _record(self, response) -> None:
        path = response.url[len(self.url) :] if response.url.startswith(self.url) else response.url
        if path.startswith("/data/local-files/"):
            from urllib.parse import unquote

            self.local_files.append((unquote(path), response.status))

    def open_task(self, project_id: int, task_id: int):
        """The labelling page of one task, loaded: the editor is up and its images have decoded."""
        p = self.page
        p.goto(f"{self.url}/projects/{project_id}/data?task={task_id}")
        try:
            p.wait_for_selector(".lsf-main-view, [class*=main-view]", state="visible")
        except Exception:
            if self.artefacts:
                self.screenshot(os.path.join(self.artefacts, f"failed-open-{project_id}-{task_id}.png"))
            raise
        p.wait_for_load_state("networkidle")
        p.wait_for_function(
            "() => [...document.querySelectorAll('img')].every(i => i.complete)",
            timeout=60_000,
        )
        return p

    def images(self) -> list[dict]:
        """The task's images the editor shows (it loads each into a blob: URL): decoded size, on-screen box."""
        return self.page.evaluate(
            """() => [...document.querySelectorAll('img[alt=image]')]
                 .map(i => { const r = i.getBoundingClientRect();
                   return {src: i.getAttribute('src'), natural: i.naturalWidth, width: r.width, height: r.height, bottom: r.bottom}; })"""
        )

    def covered_paragraph_texts(self) -> list[str]:
        """Paragraphs whose text runs under another element of the phrase (a button drawn over its last characters)."""
        return self.page.evaluate(
            """() => [...document.querySelectorAll('[class*=phraseContainer]')].filter(c => {
                 const t = c.querySelector('[class^="text--"], [class*=" text--"]'); const b = c.querySelector('button');
                 if (!t || !b) return false;
                 const tr = t.getBoundingClientRect(), br = b.getBoundingClientRect();
                 return tr.right > br.left + 1 && tr.left < br.right && tr.top < br.bottom && tr.bottom > br.top;
               }).map(c => c.innerText)"""
        )

    def fetch(self, path: str) -> tuple[int, bytes]:
        """GET with this annotator's session (cookies), as the page would."""
        r = self.context.request.get(self.url + path)
        return r.status, r.body()

    def text(self) -> str:
        return self.page.inner_text("body")

    def screenshot(self, path: str) -> str:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        self.page.screenshot(path=path, full_page=False)
        return path

    # -- the form ------------------------------------------------------------------------
    def form_values(self) -> list[str]:
        """Values the text fields hold (pre-filled or added): the editor shows each as a text region."""
        return [x.strip() for x in self.page.locator("[data-testid=htx-textbox-content]").all_inner_texts()]

    def choose(self, value: str) -> None:
        """Tick a choice by its value, as a click on its label."""
        p = self.page
        p.locator("label.lsf-choice__checkbox, label").filter(has=p.locator(f"input[name={json.dumps(value)}]")).first.click()

    def fill_text(self, field, text: str) -> None:
        """Type into a text field and add it as the editor does (Enter on a one-line field, Shift+Enter on a text box)."""
        field.click()
        field.fill(text)
        field.press("Shift+Enter" if field.evaluate("e => e.tagName") == "TEXTAREA" else "Enter")
        self.page.get_by_text(text, exact=True).first.wait_for()

    # -- regions and relations (the discourse flow) ------------------------------------------
    def _tab(self, name: str) -> None:
        self.page.locator(".lsf-tabs__tab, [role=tab], div, span").get_by_text(name, exact=True).first.click()

    def region_items(self):
        self._tab("Regions")
        return self.page.locator(".lsf-outliner-item")

    def region_count(self) -> int:
        return self.region_items().count()

    def link_regions(self, source: int, target: int) -> None:
        """Draw a relation as a person does: select the source region, "create relation" (Alt+R), click the target."""
        items = self.region_items()
        items.nth(source).click()
        self.page.keyboard.press("Alt+r")
        items.nth(target).click()
        self.page.keyboard.press("Escape")  # unselect, so the next link starts afresh

    def label_relations(self, label: str) -> int:
        """Give every relation in the Relations panel `label` (from its labels drop-down); returns how many."""
        p = self.page
        self._tab("Relations")
        rels = p.locator(".lsf-relations__item")
        for i in range(rels.count()):
            rel = rels.nth(i)
            rel.hover()
            rel.get_by_label("Show Relation Labels").click()
            p.locator(".lsf-relation-meta").last.get_by_text("Select labels").click()
            p.locator(".ant-select-dropdown:visible, [role=listbox]:visible").last.get_by_text(label, exact=True).first.click()
            p.keyboard.press("Escape")
        return rels.count()

    def data_manager_columns(self, project_id: int) -> list[str]:
        """Column titles of the project's task list (Data Manager, first tab), left to right."""
        p = self.page
        p.goto(f"{self.url}/projects/{project_id}/data")
        p.wait_for_load_state("networkidle")
        heads = p.locator(".lsf-th-content")
        heads.first.wait_for()
        return [t.strip() for t in heads.all_inner_texts() if t.strip()]

    def submit_button(self):
        return self.page.locator("[data-testid=bottombar-submit-button], button[aria-label='Submit current annotation']").first

    def submit_disabled(self) -> bool:
        return self.submit_button().is_disabled()

    def submit(self) -> None:
        """Press the editor's Submit and wait until the annotation is stored."""
        p = self.page
        with p.expect_response(lambda r: "/annotations" in r.url and r.request.method == "POST", timeout=60_000) as resp:
            self.submit_button().click()
        assert resp.value.status == 201, resp.value.text()[:300]

    def close(self) -> None:
        self.context.close()
