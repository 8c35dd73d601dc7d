"""Start the real Gradio app on a free loopback port, in a background thread."""
from __future__ import annotations

import contextlib
import socket
import time
import urllib.request
from collections.abc import Iterator

import pytest

# Markup a question must show as text, never run (the tests check window.__pwned).
XSS = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=1">'


@pytest.fixture(scope="session")
def app_engine(request, tmp_path_factory):
    """The shipped-corpus engine: the conftest's `shipped_engine` when there is one,
    else built here once in a temporary home. (Import this fixture into a test module.)"""
    try:
        return request.getfixturevalue("shipped_engine")
    except pytest.FixtureLookupError:
        from qa.engine import Isnad
        from qa.settings import Settings

        return Isnad.open(Settings.from_env(home=tmp_path_factory.mktemp("app-home")), progress=False)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_app(engine, concurrency: int = 4) -> Iterator[tuple[object, str]]:
    """(app, url) of the Isnad app over `engine`, served until the block ends."""
    from ui.app import build_app, launch_app

    app = build_app(engine, concurrency=concurrency)
    port = free_port()
    launch_app(app, "127.0.0.1", port, prevent_thread_lock=True, quiet=True)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200:
                    break
        except OSError:
            if time.monotonic() > deadline:
                app.close()
                raise
            time.sleep(0.2)
    try:
        yield app, url
    finally:
        app.close()
