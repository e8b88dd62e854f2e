"""The near-duplicate index: LSH band keys of every stored post, page and knowledge-base text.

Sketches are stored (`mod_text_sketch`), so the index loads without re-hashing; it is built on first use and
kept up to date as posts arrive and the knowledge base changes.
"""

from __future__ import annotations

import logging

import numpy as np
from sqlalchemy import func
from sqlmodel import col, select

from bot.ingest.pipeline import text_hash
from bot.moderation.common import Progress, Store, work_text
from bot.moderation.shingles import BandIndex, shingle, sketch, stored_windows
from bot.storage import Work
from bot.storage.tables.moderation import Post, TextSketch

log = logging.getLogger(__name__)


class DuplicateIndex:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._index: BandIndex | None = None
        self._works_state: tuple[object, ...] | None = None

    def keys(self, text: str) -> np.ndarray:
        """The band keys of a text as stored."""
        params = self.store.params
        return sketch(stored_windows(shingle(text, params.shingle_size), params), params)

    def sketch_row(self, name: str, text: str, keys: np.ndarray) -> TextSketch:
        return TextSketch(
            name=name,
            params=self.store.params.tag,
            text_hash=text_hash(text),
            windows=len(keys),
            keys=np.ascontiguousarray(keys, dtype=np.uint64).tobytes(),
        )

    def added(self, sketches: list[tuple[str, np.ndarray]]) -> None:
        """Texts just stored with their sketches: searchable at once if the index is loaded."""
        with self.store.lock:
            if self._index is not None:
                for name, keys in sketches:
                    self._index.add(name, keys)

    def get(self, progress: Progress | None = None) -> BandIndex:
        """The LSH index over stored posts, pages and knowledge-base texts, built on first use."""
        store = self.store
        with store.lock:
            with store.session() as session:
                # Changes to the knowledge base (new or merged works) show in this fingerprint.
                works_state = tuple(session.exec(select(func.count(), func.max(Work.updated_at))).one())
            if self._index is None:
                self._index = BandIndex(store.params)
                self._load_post_sketches(self._index)
            if self._works_state != works_state:
                self._sync_work_sketches(self._index, progress, first=self._works_state is None)
                self._works_state = works_state
            return self._index

    def _load_post_sketches(self, index: BandIndex) -> None:
        store, tag = self.store, self.store.params.tag
        with store.session() as session:
            stale = session.exec(
                select(Post.id).where(
                    col(Post.id).not_in(
                        select(func.substr(TextSketch.name, 6)).where(
                            col(TextSketch.name).startswith("post:"), TextSketch.params == tag
                        )
                    )
                )
            ).all()
        from bot.moderation.text import parse_body  # Markdown and HTML: only when sketches are (re)made

        for start in range(0, len(stale), 200):  # sketches made with other settings, or never made
            with store.session() as session:
                posts = session.exec(select(Post).where(col(Post.id).in_(stale[start : start + 200]))).all()
                for post in posts:
                    # Re-read from the body: how text is read (hidden HTML, say) may have changed with the sketch.
                    post.text = parse_body(post.body, post.body_format or "markdown").text
                    session.add(post)
                    session.merge(self.sketch_row(f"post:{post.id}", post.text, self.keys(post.text)))
                session.commit()
        self._add_sketches(index, "post:")

    def _add_sketches(self, index: BandIndex, prefix: str, names: set[str] | None = None) -> None:
        params, last = self.store.params, prefix
        while True:
            with self.store.session() as session:
                query = (
                    select(TextSketch.name, TextSketch.keys)
                    .where(
                        col(TextSketch.name).startswith(prefix),
                        TextSketch.name > last,
                        TextSketch.params == params.tag,
                    )
                    .order_by(TextSketch.name)
                    .limit(5000)
                )
                rows = session.exec(query).all()
            if not rows:
                return
            for name, raw in rows:
                if names is None or name in names:
                    index.add(name, np.frombuffer(raw, dtype=np.uint64).reshape(-1, params.bands))
            last = rows[-1][0]

    def _sync_work_sketches(self, index: BandIndex, progress: Progress | None, first: bool) -> None:
        """Sketch knowledge-base abstracts and summaries that are new or changed since last time."""
        store = self.store
        with store.session() as session:
            current = dict(session.exec(select(Work.id, Work.text_hash)).all())
            stored = dict(
                session.exec(
                    select(TextSketch.name, TextSketch.text_hash).where(
                        col(TextSketch.name).startswith("work:"), TextSketch.params == store.params.tag
                    )
                ).all()
            )
        todo = [wid for wid, h in current.items() if stored.get(f"work:{wid}") != h]
        if todo:
            log.info("sketching %d knowledge-base texts for duplicate search", len(todo))
        for start in range(0, len(todo), 500):
            works = store.db.works(todo[start : start + 500])
            rows = []
            for wid, work in works.items():
                text = work_text(work)
                row = self.sketch_row(f"work:{wid}", text, self.keys(text))
                row.text_hash = work.text_hash  # compared with Work.text_hash to find changed works
                rows.append(row)
            with store.session() as session:
                for row in rows:
                    session.merge(row)
                session.commit()
            if progress:
                progress("sketching knowledge base", len(works), len(todo))
        for name in stored:
            if name[5:] not in current:
                index.remove(name)
        self._add_sketches(index, "work:", None if first else {f"work:{wid}" for wid in todo})

    def source_text(self, kind: str, source_id: str) -> str | None:
        """The plain text a finding's source was compared with: a stored post or page, or a work's abstract
        and summary (what the index sketches)."""
        if kind in ("post", "page"):
            with self.store.session() as session:
                post = session.get(Post, source_id)
            return post.text if post else None
        if kind == "work":
            work = self.store.engine.work(source_id)
            return work_text(work) if work else None
        return None
