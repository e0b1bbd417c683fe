"""Physical erasure of deleted table entries from a worker's local RocksDB files.

Deleting a key from a Faust table writes a changelog tombstone and a RocksDB deletion
marker, but the old value stays in the partition's SST and WAL files until RocksDB compacts
them, and the SST files' key ranges stay in the MANIFEST until the database is reopened.
:func:`purge_partition` forces all of that for one table partition after a user is
forgotten: flush the memtable, compact the whole key range down to the bottommost level
(dropping the deleted values and then the markers), and reopen the database, which writes a
fresh MANIFEST and deletes the old one. The memory store (``memory://``) needs nothing.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

log = logging.getLogger(__name__)


def _compact(db: Any) -> None:
    import rocksdict

    db.flush(True)
    opts = rocksdict.CompactOptions()
    opts.set_bottommost_level_compaction(rocksdict.BottommostLevelCompaction.force())
    db.compact_range(None, None, opts)


async def purge_partition(table: Any, partition: int) -> bool:
    """Rewrite ``table``'s RocksDB files of ``partition`` without deleted entries; False
    when the table has no RocksDB store (nothing on disk to purge)."""
    store = table.data
    dbs = getattr(store, "_dbs", None)
    if dbs is None or partition not in dbs:
        return False
    db = dbs[partition]
    # compaction may take a while on a large partition: off the event loop (RocksDB is
    # thread-safe; the loop keeps using the same handle meanwhile)
    await asyncio.get_running_loop().run_in_executor(None, _compact, db)
    if dbs.get(partition) is db:  # close + reopen without an await in between
        db.close()
        del dbs[partition]
        store._db_for_partition(partition)
    log.info("event=purged table=%s partition=%s", table.name, partition)
    return True
