"""User masters in the database and the library that keeps the live catalog in step."""

from __future__ import annotations

import pytest

from masterhall.builder import BuiltinReadOnlyError, MasterLibrary
from masterhall.catalog import UnknownMasterError, load_catalog
from masterhall.store import NotFoundError


@pytest.fixture
def library(store):
    return MasterLibrary(load_catalog(), store.masters)


def test_fork_edit_publish_unpublish_delete(library, store):
    events = []
    library.catalog.subscribe(lambda mid, m: events.append((mid, m is not None)))
    draft = library.fork("socrates")
    assert draft.id == "socrates-copy" and draft.status == "draft" and draft.forked_from == "socrates"
    assert "socrates-copy" not in library.catalog  # drafts stay out of the hall
    edited = draft.master.model_copy(update={"tagline": draft.master.tagline.model_copy(update={"en": "Questions, mine"})})
    library.save(edited)
    assert store.masters.get("socrates-copy").master.tagline.en == "Questions, mine"
    library.publish("socrates-copy")
    assert library.catalog.get("socrates-copy").tagline.en == "Questions, mine"
    assert events == [("socrates-copy", True)]
    assert library.fork("socrates").id == "socrates-copy-2"
    library.unpublish("socrates-copy")
    assert "socrates-copy" not in library.catalog and events[-1] == ("socrates-copy", False)
    library.publish("socrates-copy")
    assert library.delete("socrates-copy") and "socrates-copy" not in library.catalog
    assert store.masters.get("socrates-copy") is None and not library.delete("socrates-copy")


def test_builtins_are_read_only(library):
    socrates = library.catalog.get("socrates")
    with pytest.raises(BuiltinReadOnlyError):
        library.save(socrates)
    with pytest.raises(BuiltinReadOnlyError):
        library.delete("socrates")
    with pytest.raises(BuiltinReadOnlyError):
        library.publish("socrates")
    with pytest.raises(UnknownMasterError):
        library.fork("socretes")
    with pytest.raises(NotFoundError):
        library.publish("nobody-here")


def test_published_masters_load_at_start(library, store):
    library.fork("laozi", "my-laozi")
    library.publish("my-laozi")
    library.fork("laozi", "draft-laozi")
    fresh = MasterLibrary(load_catalog(), store.masters)
    assert "my-laozi" not in fresh.catalog
    assert fresh.load_published() == 1
    assert "my-laozi" in fresh.catalog and "draft-laozi" not in fresh.catalog


def test_files_are_private_unless_turned_on(library, store):
    library.fork("nutritionist", "my-nutri")
    f = store.masters.add_file("my-nutri", "recipes.txt", b"oats, beans", "text/plain")
    assert (f.size, f.downloadable) == (11, False)
    assert store.masters.file(f.id).content is None
    assert store.masters.file(f.id, with_content=True).content == b"oats, beans"
    assert store.masters.set_downloadable(f.id, True).downloadable
    assert [x.filename for x in store.masters.files("my-nutri")] == ["recipes.txt"]
    with pytest.raises(NotFoundError):
        store.masters.add_file("nobody", "x", b"")
    library.delete("my-nutri")
    assert store.masters.file(f.id) is None  # files go with their master


def test_save_many_is_all_or_nothing(library, store):
    socrates = library.catalog.get("socrates")
    good = socrates.model_copy(update={"id": "bulk-one"})
    assert store.masters.save_many([good], "published") == 1
    with pytest.raises(Exception):
        store.masters.save_many([socrates.model_copy(update={"id": "bulk-two"}), object()])  # type: ignore[list-item]
    assert store.masters.get("bulk-two") is None and store.masters.get("bulk-one") is not None
