"""docs/quickstart.md runs as written, and does what it says."""

from __future__ import annotations

import json

from tests.support.docs import Session, blocks
from tests.support.processes import ROOT


def test_the_quickstart(session: Session) -> None:
    session.play(blocks(ROOT / "docs" / "quickstart.md"), "quickstart")

    documents = [json.loads(out) for out in session.outputs if out.startswith("{")]
    first = documents[0]
    assert first["status"] == "COMPLETED"
    assert first["outputs"] == {"add_one": 2, "to_text": "2"}
    greeted = [doc for doc in documents if doc.get("outputs") == {"greet": "hello world"}]
    assert greeted, documents
    cancelled = [doc for doc in documents if doc.get("params") == {"name": "later"}]
    assert cancelled[-1]["status"] == "CANCELLED"
