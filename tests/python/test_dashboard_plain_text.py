"""What a user or the data puts on the dashboard shows as typed: never markdown, never a
link, never a secret. In Streamlit's AppTest, on the demo warehouse.

AppTest hands back the markdown source Streamlit renders; the checks are that no markdown
syntax is left unescaped in it, and that removing the escapes gives the text as typed.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import fake_slack
import pytest
import warehouses
from fake_slack import TOKEN, FakeSlack, accept_then
from streamlit.testing.v1 import AppTest

UNESCAPED = re.compile(r"(?<!\\)[\[\]()<>:`*]")


def unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def messages(app: AppTest) -> list[str]:
    return [
        element.value
        for kind in ("warning", "error", "info", "success", "caption")
        for element in getattr(app, kind)
    ]


@pytest.mark.parametrize(
    "asked",
    [
        "[click here](https://evil.example/login)",
        "<img src=x onerror=alert(1)>",
        ":red[urgent] :material/warning: **bold** `code`",
        "www.evil.example/login",
    ],
)
def test_the_week_from_the_link_is_shown_as_typed(open_app, demo_duckdb, asked: str) -> None:
    app = open_app(demo_duckdb, week=asked)
    (warning,) = [w.value for w in app.warning if "from the link" in w.value]
    shown = warning[warning.index("Week ") + 5 : warning.index(" from the link")]
    assert UNESCAPED.search(shown) is None, shown
    assert unescape(shown) == repr(asked)
    if "www." in asked:
        assert "www\\." in shown  # no autolink


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with fake_slack.running() as fake:
        yield fake


@pytest.fixture
def writable_demo(demo_duckdb: warehouses.TestWarehouse, tmp_path: Path):
    copy = warehouses.TestWarehouse("duckdb", tmp_path, demo_duckdb.schema, demo_duckdb.raw_schema)
    copy.write_profile()
    shutil.copy(demo_duckdb.root / "warehouse.duckdb", tmp_path / "warehouse.duckdb")
    return copy


def test_a_token_with_a_line_break_is_refused_without_showing_it(open_app, demo_duckdb) -> None:
    app = open_app(demo_duckdb, SLACK_BOT_TOKEN=TOKEN + "\nfake-second-half", SLACK_CHANNEL="#c")
    shown = " ".join(messages(app))
    assert "SLACK_BOT_TOKEN contains whitespace" in unescape(shown)
    assert TOKEN not in shown and "second-half" not in shown
    assert app.button(key="send").disabled


def test_send_button_says_when_a_webhook_outcome_is_unknown(open_app, writable_demo, slack) -> None:
    app = open_app(writable_demo, SLACK_WEBHOOK_URL=slack.webhook_url, SLACK_TIMEOUT="1")
    slack.push(accept_then("fin"))
    app.button(key="send").click().run()
    assert not app.success and not app.error
    (warning,) = [w.value for w in app.warning if "Outcome unknown" in w.value]
    assert "send --force" in unescape(warning)
    assert "fake-webhook-secret" not in " ".join(messages(app))
    assert len(slack.reports) == 1

    app.button(key="send").click().run()  # clicking again does not post a second copy
    assert len(slack.reports) == 1
    assert any("Outcome unknown" in w.value for w in app.warning)
