"""`isnad ask --batch FILE.jsonl`: one {"id", "question"} per input line, one JSON line
out per input line, in input order. The engine is loaded once."""
from __future__ import annotations

import json
import logging
import sys
import traceback
from collections.abc import Callable

from ui.terminal import print_json


def ask_batch(open_engine: Callable[[], object], path: str, k: int | None, debug: bool = False) -> int:
    """Every line gets an output line: the answer, or an error object (with the line
    number, also reported on stderr). Returns 2 if some lines were bad input, 1 if a
    question failed unexpectedly, else 0."""
    from qa.engine import QuestionError

    # bytes: a line that is not UTF-8 is reported, not fatal to the batch
    stream = sys.stdin.buffer if path == "-" else open(path, "rb")  # noqa: SIM115 - closed below
    bad = failed = 0
    with stream:
        engine = open_engine()
        for lineno, raw in enumerate(stream, 1):
            item_id = None
            try:
                line = raw.decode("utf-8-sig" if lineno == 1 else "utf-8")
                if not line.strip():
                    continue
                item = json.loads(line)
                if not isinstance(item, dict) or "question" not in item:
                    raise ValueError('expected an object with a "question" field')
                item_id = item.get("id")
                out = engine.ask(item["question"], k=k, id=item_id).to_dict()
            except UnicodeDecodeError as exc:
                bad += 1
                out = _error(path, lineno, None, f"not valid UTF-8 (byte {exc.start})")
            except (ValueError, QuestionError) as exc:
                bad += 1
                out = _error(path, lineno, item_id, str(exc))
            except Exception as exc:  # one failing question must not lose the rest
                failed += 1
                if debug:
                    traceback.print_exc()
                logging.getLogger("isnad.cli").debug("batch line %d failed", lineno, exc_info=True)
                first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                out = _error(path, lineno, item_id, f"internal error: {first}")
            print_json(out)
    return 1 if failed else 2 if bad else 0


def _error(path: str, lineno: int, item_id, message: str) -> dict:
    message = " ".join(message.split())  # one line on stderr, whatever the input held
    print(f"isnad: {path}:{lineno}: {message}", file=sys.stderr, flush=True)
    return {"id": item_id, "line": lineno, "error": message}
