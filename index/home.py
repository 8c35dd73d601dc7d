"""What a data directory indexes, and bringing it to a usable index without ever
replacing a user's documents by others.

    home_state(home)      -> IndexStatus: the live generation, the recorded sources, fresh?
    ensure_index(...)     what `ask`/`serve`/`Isnad.open` call: repair CURRENT from the
                          generations, finish an interrupted build of the recorded
                          folders, or (on a truly fresh home only) build the shipped corpus
    index_home(...)       what `isnad index` calls: update (or rebuild) the recorded
                          folders, or the ones given, saying so when they replace others
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from corpus.loaders import SHIPPED_DOCUMENTS
from index.builder import BuildReport, IndexParams, build_locked
from index.embedders import Embedder
from index.generations import (
    build_lock,
    generations,
    index_root,
    read_current,
    read_sources_record,
    repair_current,
)
from index.manifest import MANIFEST_NAME, IndexMissingError, IndexProblem, Manifest

Stage = Callable[[str], None]


@dataclass(frozen=True)
class IndexStatus:
    """What a data directory indexes (index.facade.index_status)."""

    home: Path
    current: str | None  # CURRENT as read: None when missing, "" when empty
    live: Path | None  # the generation CURRENT names, when it is there
    generations: list[Path]  # newest first, complete or not
    sources: list[Path]  # the folders this home indexes ([] when nothing says)
    shipped: bool  # those are the shipped corpus
    embedder_id: str | None  # what its newest readable manifest was built with
    live_manifest: Manifest | None = None  # the live generation's, when it reads (unverified)

    @property
    def live_sources(self) -> list[str]:
        """The folders the live index was built from ([] without a readable live index)."""
        return list(self.live_manifest.sources) if self.live_manifest else []

    @property
    def live_documents(self) -> set[str]:
        """The doc_ids of the live index (empty without a readable live index)."""
        return set(self.live_manifest.documents) if self.live_manifest else set()

    @property
    def fresh(self) -> bool:
        """Nothing was ever indexed here (not even an interrupted build)."""
        return not self.generations and not self.sources


def home_state(home: Path) -> IndexStatus:
    """What `home` indexes, read from CURRENT, the sources record and the manifests
    (cheap: no checksums)."""
    current = read_current(home)
    gens = generations(home)
    live = index_root(home) / current if current and (index_root(home) / current).is_dir() else None
    manifest = live_manifest = None
    for gen in ([live] if live else []) + [g for g in gens if g != live]:
        try:
            manifest = Manifest.read(gen / MANIFEST_NAME)
            live_manifest = manifest if gen == live else None
            break
        except IndexProblem:
            continue
    record = read_sources_record(home)
    if record is not None:
        sources, shipped = ([SHIPPED_DOCUMENTS] if record.shipped else record.sources), record.shipped
    elif manifest is not None:  # a home indexed before sources were recorded
        sources = [Path(s) for s in manifest.sources]
        shipped = sources == [SHIPPED_DOCUMENTS]
    else:
        sources, shipped = [], False
    return IndexStatus(Path(home), current, live, gens, sources, shipped,
                       manifest.embedder_id if manifest else None, live_manifest)


def live_contents(home: Path) -> tuple[list[str], set[str]]:
    """(source folders, doc_ids) of the live index; empty when there is none or it is unreadable."""
    state = home_state(home)
    return state.live_sources, state.live_documents


def describe(sources: list[Path]) -> str:
    if sources == [SHIPPED_DOCUMENTS]:
        return "the shipped corpus"
    return ", ".join(str(s) for s in sources)


def ensure_index(home: Path, embedder: Embedder, params: IndexParams | None = None,
                 build: bool = True, progress: bool | None = None, stage: Stage | None = None) -> None:
    """Make sure `home` has a live index before it is opened. A missing or empty CURRENT
    is repaired from the newest complete generation; a home whose build never finished
    is built from the folders it records (after waiting for a build in progress); only
    a fresh home gets the shipped corpus. A damaged live index is left for the loader
    to report. With build=False, only the repair."""
    stage = stage or (lambda _msg: None)
    state = home_state(home)
    if state.current:  # live, or a damaged name the loader reports
        return
    with build_lock(home, stage):  # a first build in progress: wait for it
        state = home_state(home)
        if state.current or repair_current(home, stage) or not build:
            return
        if state.fresh:  # the caller says "first run" (it knows its audience)
            build_locked(home, [SHIPPED_DOCUMENTS], embedder, params, progress=progress, stage=stage)
        elif state.sources:
            stage(f"the index of {describe(state.sources)} in {home} was never completed "
                  "(an interrupted build): building it")
            build_locked(home, state.sources, embedder, params, progress=progress, stage=stage)
        else:
            raise IndexMissingError(
                f"{index_root(home)}: no complete index, and nothing records which folders it "
                "indexes; run `isnad index --docs DIR` with your documents' folder"
            )


def index_home(home: Path, docs: list[Path] | None, embedder: Embedder, params: IndexParams | None = None,
               rebuild: bool = False, progress: bool | None = None, stage: Stage | None = None) -> BuildReport:
    """`isnad index`: bring the index of `docs` (default: the folders `home` records;
    on a fresh home, the shipped corpus) up to date. A missing or empty CURRENT is
    repaired first; other folders than the recorded ones replace them with a message."""
    stage = stage or (lambda _msg: None)
    with build_lock(home, stage):
        state = home_state(home)
        repair_current(home, stage)
        if docs:
            # Other folders than the recorded ones replace them: the caller says how many
            # documents left (it counts them against the index it had).
            sources = [Path(d).expanduser().resolve() for d in docs]
        elif state.sources:
            sources = state.sources
        elif state.fresh:
            sources = [SHIPPED_DOCUMENTS]
        else:
            raise IndexMissingError(
                f"{index_root(home)}: the index does not record which folders it was built from "
                "(damaged); run `isnad index --rebuild --docs DIR` with your documents' folder"
            )
        return build_locked(home, sources, embedder, params, rebuild=rebuild, progress=progress, stage=stage)
