"""The catalogue of bad inputs (issue 11): one row per hostile or broken input sent through the
public HTTP API, with the 4xx it must get and the field the JSON error must name.

A row's ``path`` and ``body`` may hold ``{project}``, ``{task}``, ``{other_project}``,
``{other_task}``, ``{other_org}`` and ``{annotator}``: the world of the test fills them in.
``tests/security/test_bad_inputs_api.py`` runs the rows; every test of the catalogue (API,
pages, browser) records its verdict with ``record`` and ``pytest`` prints the totals at the
end ("bad inputs: N tried, M accepted wrongly"; the target is 0).
"""

from __future__ import annotations

import gzip
import io
import json
import zipfile
from dataclasses import dataclass
from typing import Any

# --- verdicts ----------------------------------------------------------------------------------
OUTCOMES: dict[str, bool] = {}  # case id -> accepted wrongly


def record(case_id: str, *, accepted_wrongly: bool) -> None:
    OUTCOMES[case_id] = accepted_wrongly


def summary(outcomes: dict[str, bool]) -> str:
    wrong = sorted(case for case, bad in outcomes.items() if bad)
    line = f"bad inputs: {len(outcomes)} tried, {len(wrong)} accepted wrongly"
    return line + (f" ({', '.join(wrong)})" if wrong else "")


# --- the rows ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class BadInput:
    id: str
    method: str
    path: str
    # json: a JSON-able value; raw: bytes sent with ``content_type``; files: multipart form
    # fields, a (name, bytes) pair for a file, a string for a plain field.
    json: Any = None
    raw: bytes | None = None
    content_type: str = "application/json"
    files: dict[str, Any] | None = None
    status: tuple[int, ...] = (400,)
    # The key the JSON error's validation_errors must hold; None: a non-empty detail.
    field: str | None = None
    as_user: str = "manager"
    tags: tuple[str, ...] = ()


IMPORT = "/api/projects/{project}/import"
# A project whose config shows images: media uploads are legitimate there.
MEDIA_IMPORT = "/api/projects/{image_project}/import"
ANNOTATE = "/api/tasks/{task}/annotations"
PROJECTS = "/api/projects"
VALIDATE = "/api/projects/validate"


def _gz(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=9)


def _zip(name: str, data: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, data)
    return out.getvalue()


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64
SVG_SCRIPT = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
HTML_SCRIPT = b"<html><body><script>alert(document.cookie)</script></body></html>"

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<View><Text name="text" value="$text"/><Choices name="c" toName="text">
<Choice value="&lol3;"/></Choices></View>"""
EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE v [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<View><Text name="text" value="$text"/><Choices name="c" toName="text">
<Choice value="&xxe;"/></Choices></View>"""
EXTERNAL_DTD = """<?xml version="1.0"?>
<!DOCTYPE View SYSTEM "http://169.254.169.254/latest/meta-data/">
<View><Text name="text" value="$text"/></View>"""
PARAMETER_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE v [<!ENTITY % remote SYSTEM "http://127.0.0.1/x.dtd"> %remote;]>
<View><Text name="text" value="$text"/></View>"""
DEEP_CONFIG = (
    '<View><Text name="text" value="$text"/>'
    + "<View>" * 5000
    + '<Choices name="c" toName="text"><Choice value="a"/></Choices>'
    + "</View>" * 5000
    + "</View>"
)
TEN_K_TAGS = (
    '<View><Text name="text" value="$text"/><Choices name="c" toName="text">'
    + "".join(f'<Choice value="v{i}"/>' for i in range(10_000))
    + "</Choices>"
    + "".join(f'<Header value="h{i}"/>' for i in range(10_000))
    + "</View>"
)
UNKNOWN_TAG = '<View><Text name="text" value="$text"/><Script>alert(1)</Script></View>'
NOT_XML = "<View><Text name='text' value='$text'></View>"


def _span(start: Any, end: Any, label: str = "PER", text: str = "Alice") -> dict[str, Any]:
    value = {"start": start, "end": end, "text": text, "labels": [label]}
    return {"from_name": "label", "to_name": "text", "type": "labels", "value": value}


def _choice(value: str, from_name: str = "intent") -> dict[str, Any]:
    return {
        "from_name": from_name,
        "to_name": "text",
        "type": "choices",
        "value": {"choices": [value]},
    }


def _url_import(url: str, case_id: str) -> BadInput:
    return BadInput(f"import-url-{case_id}", "POST", IMPORT, files={"url": url}, field="file")


def _webhook(url: str, case_id: str) -> BadInput:
    body = {"project": "{project}", "url": url}
    return BadInput(f"webhook-url-{case_id}", "POST", "/api/webhooks", json=body, field="url")


def _storage(url: str, case_id: str, kind: str) -> BadInput:
    """A cloud-storage connection (import or export side) whose S3 endpoint is ``url``."""
    path = "/api/storages/s3" if kind == "import" else "/api/storages/export/s3"
    body = {"project": "{project}", "bucket": "data", "s3_endpoint": url}
    return BadInput(
        f"{kind}-storage-endpoint-{case_id}", "POST", path, json=body, field="s3_endpoint"
    )


def _ml(url: str, case_id: str) -> BadInput:
    body = {"project": "{project}", "url": url}
    return BadInput(f"ml-backend-url-{case_id}", "POST", "/api/ml", json=body, field="url")


# Addresses the server must never be made to call (SSRF): each goes through URL imports,
# webhooks, ML backends and cloud-storage endpoints (import and export side). "rebind.test" resolves to 127.0.0.1 in the test's DNS.
FORBIDDEN_URLS = {
    "loopback": "http://127.0.0.1:8000/api/projects",
    "localhost": "http://localhost/",
    "localhost-dot": "http://localhost./",
    "ipv6-loopback": "http://[::1]/",
    "ipv4-mapped-ipv6": "http://[::ffff:127.0.0.1]/",
    "decimal-ip": "http://2130706433/",
    "hex-ip": "http://0x7f000001/",
    "octal-ip": "http://0177.0.0.1/",
    "short-ip": "http://127.1/",
    "zero-ip": "http://0.0.0.0/",
    "private-10": "http://10.0.0.5/",
    "private-172": "http://172.16.3.4/",
    "private-192": "http://192.168.1.1/",
    "metadata": "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
    "metadata-ipv6": "http://[fd00:ec2::254]/latest/meta-data/",
    "file-scheme": "file:///etc/passwd",
    "gopher-scheme": "gopher://127.0.0.1:6379/_INFO",
    "dns-to-loopback": "http://rebind.test/",
}

CASES: list[BadInput] = [
    # --- malformed and huge JSON ---
    BadInput("json-truncated", "POST", PROJECTS, raw=b'{"title": "x", ', field=None),
    BadInput("json-not-utf8", "POST", PROJECTS, raw=b'{"title": "\xff\xfe"}', field=None),
    BadInput("json-nan", "POST", PROJECTS, raw=b'{"title": "x", "maximum_annotations": NaN}'),
    BadInput("json-deep-nesting", "POST", PROJECTS, raw=b"[" * 100_000 + b"]" * 100_000),
    BadInput("json-array-not-object", "POST", PROJECTS, json=[1, 2, 3], field="non_field_errors"),
    BadInput("json-huge-title", "POST", PROJECTS, json={"title": "t" * 2_000_000}, field="title"),
    BadInput(
        "json-huge-body",
        "POST",
        PROJECTS,
        raw=b'{"title": "x", "description": "' + b"d" * (3 * 2**20) + b'"}',
        status=(400, 413),
        tags=("small-upload-limit",),
    ),
    BadInput(
        "import-json-truncated", "POST", IMPORT, raw=b'[{"text": "a"}, {"text": ', field="file"
    ),
    BadInput("import-json-deep-nesting", "POST", IMPORT, raw=b"[" * 100_000 + b"]" * 100_000),
    BadInput("import-json-scalar", "POST", IMPORT, json=42, field="file"),
    BadInput("import-data-not-object", "POST", IMPORT, json=[{"data": "text"}], field="tasks"),
    BadInput("import-missing-field", "POST", IMPORT, json=[{"title": "no text"}], field="tasks"),
    BadInput(
        "import-bad-row-among-good",
        "POST",
        IMPORT,
        json=[{"text": "fine"}, {"text": "also fine"}, {"data": 5}],
        field="tasks",
    ),
    BadInput(
        "import-json-nul-escape", "POST", IMPORT, raw=b'[{"text": "a\\u0000b"}]', field="file"
    ),
    BadInput(
        "import-jsonl-nul-escape",
        "POST",
        IMPORT,
        files={"file": ("tasks.jsonl", b'{"text": "fine"}\n{"text": "a\\u0000b"}\n')},
        field="file",
    ),
    BadInput(
        "task-nul-escape",
        "POST",
        "/api/tasks",
        raw=b'{"project": 1, "data": {"text": "a\\u0000b"}}',
    ),
    BadInput(
        "annotation-nul-escape",
        "POST",
        ANNOTATE,
        raw=b'{"result": [], "lead_time": 1, "meta": "\\u0000"}',
    ),
    # --- CSV: broken quoting, wrong encodings ---
    BadInput(
        "csv-unterminated-quote",
        "POST",
        IMPORT,
        files={"file": ("tasks.csv", b'text\n"unterminated,row\nnext\n')},
    ),
    BadInput(
        "csv-latin1-bytes",
        "POST",
        IMPORT,
        files={"file": ("tasks.csv", "text\ncaf\u00e9 cr\u00e8me\n".encode("latin-1"))},
    ),
    BadInput(
        "csv-utf16", "POST", IMPORT, files={"file": ("tasks.csv", "text\nhello\n".encode("utf-16"))}
    ),
    BadInput("csv-nul-bytes", "POST", IMPORT, files={"file": ("tasks.csv", b"text\nab\x00cd\n")}),
    BadInput(
        "csv-no-header-field", "POST", IMPORT, files={"file": ("tasks.csv", b"body\nhello\n")}
    ),
    BadInput(
        "tsv-ragged-rows", "POST", IMPORT, files={"file": ("tasks.tsv", b"text\tx\nonly-one\n")}
    ),
    # --- labelling configs ---
    BadInput(
        "config-entity-expansion",
        "POST",
        PROJECTS,
        json={"title": "x", "label_config": BILLION_LAUGHS},
        field="label_config",
    ),
    BadInput(
        "config-external-entity",
        "POST",
        PROJECTS,
        json={"title": "x", "label_config": EXTERNAL_ENTITY},
        field="label_config",
    ),
    BadInput(
        "config-external-dtd",
        "POST",
        PROJECTS,
        json={"title": "x", "label_config": EXTERNAL_DTD},
        field="label_config",
    ),
    BadInput(
        "config-parameter-entity",
        "POST",
        PROJECTS,
        json={"title": "x", "label_config": PARAMETER_ENTITY},
        field="label_config",
    ),
    BadInput(
        "config-deep-nesting",
        "POST",
        PROJECTS,
        json={"title": "x", "label_config": DEEP_CONFIG},
        field="label_config",
    ),
    BadInput(
        "config-10k-tags",
        "POST",
        PROJECTS,
        json={"title": "x", "label_config": TEN_K_TAGS},
        field="label_config",
    ),
    BadInput(
        "config-unknown-tag",
        "POST",
        PROJECTS,
        json={"title": "x", "label_config": UNKNOWN_TAG},
        field="label_config",
    ),
    BadInput(
        "config-not-xml",
        "POST",
        PROJECTS,
        json={"title": "x", "label_config": NOT_XML},
        field="label_config",
    ),
    BadInput(
        "config-update-entity-expansion",
        "PATCH",
        "/api/projects/{project}",
        json={"label_config": BILLION_LAUGHS},
        field="label_config",
    ),
    BadInput(
        "config-validate-external-entity",
        "POST",
        VALIDATE,
        json={"label_config": EXTERNAL_ENTITY},
        field="label_config",
    ),
    # --- results ---
    BadInput(
        "result-end-past-text",
        "POST",
        ANNOTATE,
        json={"result": [_span(0, 10_000)]},
        field="result",
    ),
    BadInput(
        "result-negative-start", "POST", ANNOTATE, json={"result": [_span(-5, 3)]}, field="result"
    ),
    BadInput(
        "result-end-before-start", "POST", ANNOTATE, json={"result": [_span(4, 1)]}, field="result"
    ),
    BadInput(
        "result-offset-not-number",
        "POST",
        ANNOTATE,
        json={"result": [_span("0", "5")]},
        field="result",
    ),
    BadInput(
        "result-unknown-label",
        "POST",
        ANNOTATE,
        json={"result": [_span(0, 5, "HACKER")]},
        field="result",
    ),
    BadInput(
        "result-unknown-choice",
        "POST",
        ANNOTATE,
        json={"result": [_choice("nope")]},
        field="result",
    ),
    BadInput(
        "result-unknown-control",
        "POST",
        ANNOTATE,
        json={"result": [_choice("greet", "ghost")]},
        field="result",
    ),
    BadInput("result-not-a-list", "POST", ANNOTATE, json={"result": {"a": 1}}, field="result"),
    BadInput(
        "prediction-unknown-label",
        "POST",
        "/api/predictions",
        json={"task": "{task}", "result": [_span(0, 5, "HACKER")]},
        field="predictions",
    ),
    BadInput(
        "import-annotation-unknown-label",
        "POST",
        IMPORT,
        json=[{"data": {"text": "Alice"}, "annotations": [{"result": [_span(0, 5, "HACKER")]}]}],
        field="tasks",
    ),
    # --- file uploads ---
    BadInput(
        "upload-svg-script",
        "POST",
        MEDIA_IMPORT,
        files={"file": ("pic.svg", SVG_SCRIPT)},
        field="file",
    ),
    BadInput(
        "upload-html",
        "POST",
        MEDIA_IMPORT,
        files={"file": ("page.html", HTML_SCRIPT)},
        field="file",
    ),
    BadInput(
        "upload-double-ext-svg",
        "POST",
        MEDIA_IMPORT,
        files={"file": ("photo.png.svg", SVG_SCRIPT)},
        field="file",
    ),
    BadInput(
        "upload-double-ext-html",
        "POST",
        MEDIA_IMPORT,
        files={"file": ("photo.jpg.html", HTML_SCRIPT)},
        field="file",
    ),
    BadInput(
        "upload-html-named-png",
        "POST",
        MEDIA_IMPORT,
        files={"file": ("photo.png", HTML_SCRIPT)},
        field="file",
    ),
    BadInput(
        "upload-php-png-not-image",
        "POST",
        MEDIA_IMPORT,
        files={"file": ("shell.php.png", b"<?php system($_GET['c']); ?>")},
        field="file",
    ),
    BadInput(
        "upload-good-then-svg",
        "POST",
        MEDIA_IMPORT,
        files={"file": ("fine.png", PNG), "file2": ("evil.svg", SVG_SCRIPT)},
        field="file",
    ),
    BadInput(
        "upload-good-then-fake-png",
        "POST",
        MEDIA_IMPORT,
        files={"file": ("fine.png", PNG), "file2": ("fake.png", HTML_SCRIPT)},
        field="file",
    ),
    BadInput(
        "upload-executable",
        "POST",
        MEDIA_IMPORT,
        files={"file": ("tool.exe", b"MZ\x90\x00" + b"\x00" * 60)},
        field="file",
    ),
    BadInput(
        "upload-zip-archive",
        "POST",
        MEDIA_IMPORT,
        files={"file": ("tasks.zip", _zip("tasks.json", b'[{"text": "a"}]'))},
        field="file",
    ),
    BadInput(
        "upload-gzip-bomb",
        "POST",
        IMPORT,
        files={"file": ("tasks.jsonl.gz", _gz(b"\x00" * (48 * 2**20)))},
        field="file",
    ),
    BadInput(
        "upload-gzip-broken",
        "POST",
        IMPORT,
        files={"file": ("tasks.json.gz", b"\x1f\x8b\x08\x00broken")},
        field="file",
    ),
    BadInput(
        "upload-oversized-media",
        "POST",
        MEDIA_IMPORT,
        files={"file": ("big.png", PNG + b"\x00" * (2 * 2**20))},
        field="file",
        tags=("small-upload-limit",),
    ),
    # --- outbound URLs: imports, webhooks, ML backends, cloud-storage endpoints ---
    *[_url_import(url, name) for name, url in FORBIDDEN_URLS.items()],
    *[_storage(url, name, "import") for name, url in FORBIDDEN_URLS.items()],
    *[_storage(url, name, "export") for name, url in FORBIDDEN_URLS.items()],
    *[_webhook(url, name) for name, url in FORBIDDEN_URLS.items()],
    *[_ml(url, name) for name, url in FORBIDDEN_URLS.items()],
    # --- filters and ordering that traverse relations ---
    BadInput(
        "tasks-ordering-password",
        "GET",
        "/api/tasks?project={project}&ordering=completed_by__password",
        field="ordering",
    ),
    BadInput(
        "tasks-filter-password",
        "GET",
        "/api/tasks?project={project}&completed_by__password__startswith=pbkdf2",
        field="completed_by__password__startswith",
    ),
    BadInput(
        "tasks-query-filter-password",
        "GET",
        "/api/tasks?project={project}&query="
        + json.dumps(
            {
                "filters": {
                    "conjunction": "and",
                    "items": [
                        {
                            "filter": "filter:tasks:annotations__completed_by__password",
                            "operator": "contains",
                            "type": "String",
                            "value": "md5",
                        }
                    ],
                }
            }
        ),
        field="query.filters.items[0]",
    ),
    BadInput(
        "tasks-query-ordering-password",
        "GET",
        "/api/tasks?project={project}&query="
        + json.dumps({"ordering": ["tasks:annotations__completed_by__password"]}),
        field="query.ordering",
    ),
    BadInput(
        "data-sort-password",
        "GET",
        "/api/projects/{project}/data?sort=annotations__completed_by__password",
        field="sort",
    ),
    BadInput(
        "data-filter-password",
        "GET",
        "/api/projects/{project}/data?annotations__completed_by__password__startswith=md5",
        field="annotations__completed_by__password__startswith",
    ),
    # --- mass assignment ---
    BadInput(
        "task-into-other-project",
        "POST",
        "/api/tasks",
        json={"project": "{other_project}", "data": {"text": "planted"}},
        status=(403, 404),
    ),
    BadInput(
        "prediction-on-other-task",
        "POST",
        "/api/predictions",
        json={"task": "{other_task}", "result": []},
        status=(400, 403, 404),
    ),
    BadInput(
        "project-in-other-org",
        "POST",
        PROJECTS,
        json={"title": "planted", "organization": "{other_org}"},
        status=(400, 403, 404),
    ),
    BadInput(
        "webhook-on-other-project",
        "POST",
        "/api/webhooks",
        json={"project": "{other_project}", "url": "https://hooks.example.com/x"},
        status=(400, 403, 404),
    ),
    BadInput(
        "bulk-delete-other-project-tasks",
        "POST",
        "/api/projects/{project}/data/actions/delete",
        json={"selection": {"ids": ["{other_task}"]}},
        status=(400, 404),
    ),
    BadInput(
        "annotator-sets-completed-by",
        "POST",
        ANNOTATE,
        json={"result": [_choice("greet")], "completed_by": "{manager}"},
        field="completed_by",
        as_user="annotator",
    ),
    BadInput(
        "annotator-import",
        "POST",
        IMPORT,
        json=[{"text": "planted"}],
        status=(403, 404),
        as_user="annotator",
    ),
    BadInput(
        "annotator-makes-self-manager",
        "POST",
        "/api/projects/{project}/members",
        json={"user": "{annotator}", "role": "manager"},
        status=(403, 404),
        as_user="annotator",
    ),
]
