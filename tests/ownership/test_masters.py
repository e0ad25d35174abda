"""User masters, their files and their instructions: the creator's and the admins'; published
masters are everyone's to see and chat with, their instructions only when the creator says so."""

from __future__ import annotations

import pytest

from masterhall.accounts import LOCAL
from masterhall.accounts.access import first_admin
from masterhall.catalog import UnknownMasterError
from masterhall.errors import ConflictError, ForbiddenError, InvalidRequestError, NotFoundError
from masterhall.interop import import_bytes


@pytest.fixture
def lib(hall):
    hall.library.load_published()
    return hall.library


def made(lib, caller, new_id, publish=False):
    um = lib.fork("socrates", new_id, caller=caller)
    return lib.publish(um.id, caller) if publish else um


def test_a_new_master_belongs_to_its_creator_and_hides_its_instructions(lib, people):
    um = made(lib, people.a, "a-draft")
    assert um.owner_id == people.a.user_id and um.instructions_visible is False
    assert um.to_dict()["owner_id"] == people.a.user_id
    assert made(lib, LOCAL, "local-draft").owner_id is None


def test_drafts_are_the_creators_and_the_admins(lib, people):
    made(lib, people.a, "a-draft")
    assert [m.id for m in lib.list(caller=people.a)] == ["a-draft"]
    assert lib.list(caller=people.b) == []
    assert [m.id for m in lib.list(caller=people.admin)] == ["a-draft"]
    assert lib.require("a-draft", people.admin).id == "a-draft"
    assert lib.mine("a-draft", people.b) is None
    for attempt in (lambda: lib.require("a-draft", people.b), lambda: lib.publish("a-draft", people.b),
                    lambda: lib.unpublish("a-draft", people.b), lambda: lib.files("a-draft", people.b),
                    lambda: lib.add_file("a-draft", "x.txt", b"x", caller=people.b)):
        with pytest.raises(NotFoundError):
            attempt()
    for attempt in (lambda: lib.find("a-draft", people.b), lambda: lib.fork("a-draft", caller=people.b),
                    lambda: lib.export("a-draft", "json", caller=people.b)):
        with pytest.raises(UnknownMasterError):
            attempt()
    assert lib.delete("a-draft", people.b) is False and lib.get("a-draft") is not None
    assert lib.export("a-draft", "json", caller=people.a)[0]
    assert lib.fork("a-draft", "admin-copy", caller=people.admin).owner_id == people.admin.user_id
    assert lib.delete("a-draft", people.admin) and lib.get("a-draft") is None


def test_another_persons_published_master_is_seen_but_not_changed(lib, people):
    made(lib, people.a, "a-pub", publish=True)
    assert "a-pub" in lib.catalog  # the hall, /v1/models and the Finder
    for attempt in (lambda: lib.publish("a-pub", people.b), lambda: lib.unpublish("a-pub", people.b),
                    lambda: lib.delete("a-pub", people.b), lambda: lib.files("a-pub", people.b),
                    lambda: lib.add_file("a-pub", "x.txt", b"x", caller=people.b)):
        with pytest.raises(ForbiddenError):
            attempt()
    assert "a-pub" in lib.catalog and lib.get("a-pub").status == "published"
    assert lib.unpublish("a-pub", people.admin).status == "draft"


def test_hidden_instructions_are_not_shown_forked_or_exported_by_others(lib, people):
    made(lib, people.a, "a-pub", publish=True)
    assert "instructions" not in lib.view("a-pub", people.b)
    assert lib.view("a-pub", people.b)["name"]["en"]  # the rest of the master is public
    assert lib.view("a-pub", people.a)["instructions"] == lib.view("a-pub", people.admin)["instructions"]
    assert "instructions" in lib.view("socrates", people.b)  # built-ins stay open
    with pytest.raises(ForbiddenError):
        lib.fork("a-pub", caller=people.b)
    with pytest.raises(ForbiddenError):
        lib.export("a-pub", "card-json", caller=people.b)
    assert lib.fork("socrates", "b-socrates", caller=people.b).owner_id == people.b.user_id
    # the creator shows them: then everyone may read, fork and export
    master = lib.get("a-pub").master
    assert lib.save(master, caller=people.a, instructions_visible=True).instructions_visible
    assert lib.view("a-pub", people.b)["instructions"] == master.instructions
    assert lib.fork("a-pub", "b-copy", caller=people.b).master.instructions == master.instructions
    assert lib.export("a-pub", "json", caller=people.b)[0]
    assert lib.save(master, caller=people.a).instructions_visible  # kept when not given


def test_nobody_takes_over_another_persons_id(lib, people):
    made(lib, people.a, "a-draft")
    theirs = lib.get("a-draft").master
    changed = theirs.model_copy(update={"instructions": "Obey bob. " * 10})
    with pytest.raises(ConflictError) as err:
        lib.save(changed, caller=people.b)
    assert err.value.code == "id_taken" and err.value.details["fields"][0]["field"] == "id"
    with pytest.raises(ConflictError):
        lib.fork("socrates", "a-draft", caller=people.b)
    result = import_bytes(theirs.model_dump_json().encode(), "m.json")
    with pytest.raises(ConflictError):
        lib.save_many(result.masters, caller=people.b)
    with pytest.raises(InvalidRequestError, match="taken"):  # the web's import: a 400, nothing stored
        lib.import_file(theirs.model_dump_json().encode(), "m.json", caller=people.b)
    assert lib.get("a-draft").master.instructions == theirs.instructions
    # the creator (or an admin) may replace it; it keeps its creator
    assert lib.save_many(result.masters, caller=people.admin) == 1
    assert lib.get("a-draft").owner_id == people.a.user_id
    assert lib.save(changed, caller=people.a).owner_id == people.a.user_id


def test_imports_belong_to_the_importer(lib, people):
    raw = lib.catalog.get("socrates").model_copy(update={"id": "imported-one"}).model_dump_json().encode()
    assert lib.import_file(raw, "m.json", caller=people.b, publish=True)["stored"] == 1
    assert lib.get("imported-one").owner_id == people.b.user_id
    assert [m.id for m in lib.list(caller=people.b)] == ["imported-one"]


def test_files_have_unguessable_ids_and_stay_with_their_creator(lib, people):
    made(lib, people.a, "a-pub", publish=True)
    private = lib.add_file("a-pub", "notes.txt", b"secret", caller=people.a)
    shared = lib.add_file("a-pub", "handout.txt", b"for all", downloadable=True, caller=people.a)
    assert len(private.id) == 32 and int(private.id, 16) >= 0 and private.id != shared.id
    assert [f.id for f in lib.files("a-pub", people.admin)] == [private.id, shared.id]
    for attempt in (lambda: lib.file(private.id, people.b), lambda: lib.file(shared.id, people.b),
                    lambda: lib.set_downloadable(private.id, True, people.b),
                    lambda: lib.public_file("a-pub", private.id, people.b)):
        with pytest.raises(NotFoundError):
            attempt()
    assert lib.file(private.id, people.a).downloadable is False  # unchanged
    assert lib.public_file("a-pub", shared.id, people.b).content == b"for all"
    assert lib.file(private.id, people.admin).content == b"secret"
    assert lib.set_downloadable(private.id, True, people.admin).downloadable
    assert lib.public_file("a-pub", private.id, people.b).content == b"secret"
    # a draft's files are nobody else's, downloadable or not
    lib.unpublish("a-pub", people.a)
    with pytest.raises(NotFoundError):
        lib.public_file("a-pub", shared.id, people.b)
    assert lib.public_file("a-pub", shared.id, people.a).content == b"for all"


def test_the_command_line_acts_for_the_first_admin(hall, people, accounts):
    assert first_admin(hall.store.engine) == people.admin
    accounts(hall.store.engine, "second-admin", "admin")
    assert first_admin(hall.store.engine) == people.admin


def test_the_command_line_is_local_without_accounts(hall):
    assert first_admin(hall.store.engine) is LOCAL
