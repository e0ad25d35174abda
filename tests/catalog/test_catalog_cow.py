"""The live catalog is copy-on-write: request threads publish and remove masters while turn
threads iterate it, and no reader ever sees a mapping change under it."""

from __future__ import annotations

import threading

import pytest

from masterhall.catalog.loader import load_catalog


@pytest.fixture()
def fresh():
    return load_catalog()


def _user(catalog, new_id: str):
    return catalog.masters["socrates"].model_copy(update={"id": new_id})


def test_iteration_survives_a_publish_and_a_removal(fresh):
    fresh.add(_user(fresh, "user-one"))
    it = iter(fresh)
    first = next(it)
    fresh.add(_user(fresh, "user-two"))  # was: RuntimeError, dictionary changed size during iteration
    fresh.remove("user-one")
    rest = list(it)
    assert first.id == next(iter(fresh.masters))
    assert "user-one" in {m.id for m in rest} and "user-two" not in {m.id for m in rest}
    assert "user-two" in fresh and "user-one" not in fresh


def test_snapshot_is_unchanged_by_later_writes_and_read_only(fresh):
    snap = fresh.snapshot()
    fresh.add(_user(fresh, "user-three"))
    assert "user-three" not in snap and "user-three" in fresh.masters
    with pytest.raises(TypeError):
        snap["x"] = snap["socrates"]  # type: ignore[index]


def test_concurrent_writers_and_readers(fresh):
    errors: list[BaseException] = []
    stop = threading.Event()

    def read():
        while not stop.is_set():
            try:
                for _ in fresh:
                    pass
                fresh.advisors()
                fresh.suggest("socrtes")
            except BaseException as exc:  # noqa: BLE001 - collected and asserted below
                errors.append(exc)
                return

    def write(prefix: str):
        for i in range(300):
            fresh.add(_user(fresh, f"{prefix}-{i}"))
            if i % 2:
                fresh.remove(f"{prefix}-{i - 1}")

    readers = [threading.Thread(target=read) for _ in range(2)]
    writers = [threading.Thread(target=write, args=(p,)) for p in ("a", "b")]
    for t in readers + writers:
        t.start()
    for t in writers:
        t.join()
    stop.set()
    for t in readers:
        t.join()
    assert not errors
    # no write lost: every odd-numbered master of both writers is there, every even one removed
    assert all(f"{p}-{i}" in fresh for p in "ab" for i in range(1, 300, 2))
    assert not any(f"{p}-{i}" in fresh for p in "ab" for i in range(0, 300, 2))
