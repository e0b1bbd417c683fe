"""A table seen through a batch (streams/writeback.py WriteBack): a batch's writes
reach the table once, and decoded values are reused between batches until a rebalance."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from streams.app import scope_to
from streams.writeback import WriteBack


class Event:  # stands in for a Faust event (the partition scope of a write)
    pass


class CountingTable(dict):  # type: ignore[type-arg]
    """A dict that counts reads, as decoding from RocksDB would cost them."""

    reads = 0

    def get(self, key: Any, default: Any = None) -> Any:
        self.reads += 1
        return super().get(key, default)


def test_reads_see_the_batch_and_each_key_is_written_once() -> None:
    table, app = CountingTable(), SimpleNamespace(rebalancing_count=0, rebalancing=False)
    store = WriteBack(table, app)
    ev = Event()  # held: the scope is a weak reference
    scope_to(ev)
    store["0/u/a"] = {"n": 1}
    store["0/u/a"] = {"n": 2}
    assert store.get("0/u/a") == {"n": 2} and table == {}  # not written before flush
    store.flush()
    assert table == {"0/u/a": {"n": 2}}
    del store["0/u/a"]
    assert store.get("0/u/a") is None
    store.flush()
    assert table == {} and store.get("0/u/a") is None


def test_decoded_values_are_reused_until_a_rebalance() -> None:
    table = CountingTable({"0/u/a": {"n": 1}, "0/u/b": {"n": 5}})
    app = SimpleNamespace(rebalancing_count=0, rebalancing=False)
    store = WriteBack(table, app, keep=1)
    assert store.get("0/u/a") == {"n": 1} and store.get("0/u/a") == {"n": 1}
    assert table.reads == 1
    assert store.get("0/u/b") == {"n": 5}  # keep=1: a is dropped
    assert store.get("0/u/a") == {"n": 1} and table.reads == 3
    dict.__setitem__(table, "0/u/a", {"n": 9})  # another worker's write, then a rebalance
    app.rebalancing_count = 1
    assert store.get("0/u/a") == {"n": 9} and table.reads == 4


def test_forget_decoded_sees_writes_made_behind_it() -> None:
    table = CountingTable({"0/meta": {"due": {"u": 1}}})
    store = WriteBack(table)
    assert store.get("0/meta") == {"due": {"u": 1}}
    dict.__setitem__(table, "0/meta", {"due": {}})  # forget_feedback writes the table
    store.forget_decoded()
    assert store.get("0/meta") == {"due": {}}
