"""Snapshots in a JetStream object store, so a new node starts without replaying from 1.

The leader puts each snapshot file it writes (``sandex.node.snapshot``: header line, state
document) into the object store bucket ``sandex_snapshots`` (as many replicas as the journal)
under its file name, keeping the newest ``KEEP``. A node starting on a data dir whose newest
local snapshot is older than the bucket's newest copies that one in first (temporary file,
fsync, rename, as a local snapshot is written); start-up then checks it as any snapshot
(format, schema, CRC, state hash after loading) and replays the stream after its position.
A snapshot that fails those checks is skipped for a replay, as always: the bucket is a
shortcut, never a source of truth.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from nats.errors import Error as NatsError
from nats.js.api import ObjectStoreConfig, StorageType
from nats.js.errors import APIError, BucketNotFoundError, NotFoundError
from nats.js.object_store import ObjectStore

from sandex.cluster.journal import NatsJournal
from sandex.node import snapshot

log = logging.getLogger("sandex.cluster")

BUCKET = "sandex_snapshots"
KEEP = snapshot.KEEP


async def _store(journal: NatsJournal, create: bool) -> ObjectStore | None:
    js = journal.js
    try:
        return await js.object_store(BUCKET)
    except BucketNotFoundError:
        if not create:
            return None
        info = await js.stream_info(journal.stream)
        return await js.create_object_store(BUCKET, ObjectStoreConfig(
            storage=StorageType.FILE, replicas=info.config.num_replicas or 1))


async def _names(store: ObjectStore) -> list[str]:
    """The snapshots in the bucket, oldest first."""
    try:
        found = await store.list(ignore_deletes=True)
    except NotFoundError:
        return []
    names = [info.name for info in found if info.name and not info.deleted]
    return sorted(names, key=lambda name: snapshot.position_of(Path(name)))


async def upload(journal: NatsJournal, path: Path) -> None:
    """Put the snapshot file at ``path`` in the bucket; drop all but the newest ``KEEP``."""
    store = await _store(journal, create=True)
    assert store is not None
    await store.put(path.name, path.read_bytes())
    for old in (await _names(store))[:-KEEP]:
        await store.delete(old)


async def _download(journal: NatsJournal, directory: Path) -> Path | None:
    store = await _store(journal, create=False)
    if store is None:
        return None
    names = await _names(store)
    if not names:
        return None
    newest = names[-1]
    position = snapshot.position_of(Path(newest))
    local = max((snapshot.position_of(p) for p in snapshot.paths(directory)), default=-1)
    if position <= local:
        return None
    result = await store.get(newest)
    temporary = snapshot.temporary_path(directory, position)
    with open(temporary, "wb") as file:
        file.write(result.data or b"")
        file.flush()
        os.fsync(file.fileno())
    return snapshot.publish(temporary)


def fetch_newest(journal: NatsJournal, directory: Path) -> Path | None:
    """Copy the bucket's newest snapshot into ``directory`` if it is newer than any there
    (blocking; at start-up). ``None`` if nothing was copied; a failure is logged, not raised:
    the stream alone rebuilds the state."""
    try:
        path = journal.run(_download(journal, directory), timeout=120)
    except (NatsError, APIError, OSError, TimeoutError) as exc:
        log.warning("cannot fetch a snapshot from the %s bucket (%r); replaying the stream",
                    BUCKET, exc)
        return None
    if path is not None:
        log.info("fetched snapshot %s from the %s bucket", path.name, BUCKET)
    return path
