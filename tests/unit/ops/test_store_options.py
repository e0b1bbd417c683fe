"""Every table's RocksDB store is opened with the worker's bounded memory options, not
Faust's defaults (64 MiB × 3 memtables and a 2 GiB block cache per table partition)."""

from __future__ import annotations

from pathlib import Path

from recstream.settings import Settings


def test_tables_use_the_bounded_rocksdb_options(tmp_path: Path) -> None:
    from streams.app import create_pipeline

    s = Settings(worker={"data_dir": tmp_path, "rocksdb_write_buffer_mb": 3,
                         "rocksdb_block_cache_mb": 5},
                 privacy={"key": "unit-test-privacy-key-0123"})
    p = create_pipeline(s)
    tables = [p.profiles, p.event_ids, p.term_index, p.latest, p.feedback]
    if p.learner is not None:
        tables.append(p.learner)
    for table in tables:
        opts = table.data.rocksdb_options
        assert opts.write_buffer_size == 3 << 20, table.name
        assert opts.max_write_buffer_number == 2
        assert opts.block_cache_size == 5 << 20 and opts.block_cache_compressed_size == 5 << 20
