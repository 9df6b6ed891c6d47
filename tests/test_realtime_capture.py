"""Capture: every ORM change becomes an outbox record, sequenced after commit."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest
from django.db import connection, connections, transaction
from django.test import override_settings

from myproject.models import Article, Tag, User
from realtime import publish_changes
from realtime.hub import prune
from realtime.models import ChangeRecord, StreamPosition
from realtime.sequencer import assign_sequence, to_event
from tests.testapp.models import Reading, Restaurant, Sensor

pytestmark = pytest.mark.django_db(transaction=True)


def records(model: str | None = None) -> list[tuple[Any, ...]]:
    qs = ChangeRecord.objects.order_by("id")
    if model:
        qs = qs.filter(model=model)
    return list(qs.values_list("model", "object_pk", "op", "seq", "changed_fields"))


@pytest.fixture
def author() -> User:
    user = User.objects.create(email="a@example.com", username="ada")
    ChangeRecord.objects.all().delete()
    StreamPosition.objects.exclude(model="*").delete()
    return user


def test_save_update_delete_are_recorded_and_sequenced_after_commit(author: User) -> None:
    article = Article.objects.create(title="t", content="c", author=author)
    article.title = "changed"
    article.save()
    article.save()  # no change: nothing to tell anyone
    pk = str(article.pk)
    article.delete()
    assert records("myproject.article") == [
        ("myproject.article", pk, "CREATED", 1, None),
        ("myproject.article", pk, "UPDATED", 2, ["title"]),
        ("myproject.article", pk, "DELETED", 3, None),
    ]
    update, delete = ChangeRecord.objects.filter(op__in=["UPDATED", "DELETED"]).order_by("id")
    assert update.previous == {"title": "t"}
    assert delete.previous is not None and delete.previous["title"] == "changed"
    assert delete.previous["author_id"] == author.pk


def test_rollback_records_nothing(author: User) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        Article.objects.create(title="t", content="c", author=author)
        raise RuntimeError("rolled back")
    assert records() == []


def test_one_transaction_keeps_the_order_of_its_writes(author: User) -> None:
    with transaction.atomic():
        first = Article.objects.create(title="1", content="c", author=author)
        second = Article.objects.create(title="2", content="c", author=author)
        first.title = "1b"
        first.save()
        assert ChangeRecord.objects.filter(seq__isnull=False).count() == 0  # not yet
    assert [(r[1], r[2], r[3]) for r in records("myproject.article")] == [
        (str(first.pk), "CREATED", 1), (str(second.pk), "CREATED", 2),
        (str(first.pk), "UPDATED", 3)]


def test_many_to_many_changes_both_sides(author: User) -> None:
    article = Article.objects.create(title="t", content="c", author=author)
    django_tag = Tag.objects.create(name="django")
    ChangeRecord.objects.all().delete()
    article.tags.add(django_tag)
    article.tags.remove(django_tag)
    django_tag.articles.add(article)
    article.tags.clear()
    # One through row each time; the relation's owner (Tag.articles) is recorded first.
    both_sides = [("myproject.tag", "UPDATED", ["articles"]),
                  ("myproject.article", "UPDATED", ["tags"])]
    assert [(r[0], r[2], r[4]) for r in records()] == both_sides * 4


def test_multi_table_inheritance_changes_the_parent_stream_too() -> None:
    restaurant = Restaurant.objects.create(name="Luigi")
    assert {r[0] for r in records()} == {"testapp.restaurant", "testapp.place"}
    ChangeRecord.objects.all().delete()
    restaurant.serves_pizza = True  # a column of the child's table only
    restaurant.save()
    restaurant.name = "Mario"  # a column of the parent's table only
    restaurant.save()
    assert sorted((r[0], r[4][0]) for r in records()) == [
        ("testapp.place", "name"), ("testapp.place", "serves_pizza"),
        ("testapp.restaurant", "name"), ("testapp.restaurant", "serves_pizza")]


def test_writes_without_signals_are_captured_by_the_database(author: User) -> None:
    """QuerySet.update, bulk_create, bulk_update and raw SQL: the triggers record them
    from OLD and NEW, with exact changed fields and previous values."""
    made = Article.objects.bulk_create(
        [Article(title=str(i), content="c", author=author) for i in range(3)])
    ids = [a.pk for a in made]
    Article.objects.filter(pk__in=ids).update(published=True)
    Article.objects.filter(pk__in=ids).update(published=True)  # changes nothing
    made[0].title = "zero"
    Article.objects.bulk_update(made, ["title", "content"])  # only the title differs
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {Article._meta.db_table} WHERE id = %s", [ids[0]])
    assert [(r[1], r[2], r[3], r[4]) for r in records("myproject.article")] == [
        (str(ids[0]), "CREATED", 1, None), (str(ids[1]), "CREATED", 2, None),
        (str(ids[2]), "CREATED", 3, None),
        (str(ids[0]), "UPDATED", 4, ["published"]), (str(ids[1]), "UPDATED", 5, ["published"]),
        (str(ids[2]), "UPDATED", 6, ["published"]),
        (str(ids[0]), "UPDATED", 7, ["title"]), (str(ids[0]), "DELETED", 8, None)]
    update, rename, delete = ChangeRecord.objects.filter(
        op__in=["UPDATED", "DELETED"], object_pk=str(ids[0])).order_by("id")
    assert Article._meta.get_field("published").to_python(update.previous["published"]) is False
    assert rename.previous == {"title": "0"}
    assert delete.previous is not None and delete.previous["title"] == "zero"
    assert delete.previous["author_id"] == author.pk


def test_uuid_keys_and_values_are_recorded_as_django_prints_them() -> None:
    """SQLite stores a UUID as 32 hex digits, PostgreSQL as uuid: either way an event
    names the object, and gives previous values, as str(uuid) (a UUID key, a foreign
    key to one, a UUID column, both sides of a many-to-many)."""
    first, second = Sensor.objects.create(name="a"), Sensor.objects.create(name="b")
    batch, next_batch = uuid.uuid4(), uuid.uuid4()
    reading = Reading.objects.create(sensor=first, batch=batch)
    reading_id, first_id = str(reading.pk), str(first.pk)
    ChangeRecord.objects.all().delete()
    Reading.objects.filter(pk=reading.pk).update(sensor=second, batch=next_batch)
    reading.seen_by.add(first)
    Sensor.objects.filter(pk=first.pk).update(name="renamed")
    with connection.cursor() as cursor:  # the database's own cascade is not Django's
        cursor.execute(f"DELETE FROM {Reading.seen_by.through._meta.db_table}")
    reading.delete()
    first.delete()
    events = [to_event(record) for record in ChangeRecord.objects.order_by("id")]
    assert [(e.model, e.pk, e.op, e.changed_fields) for e in events] == [
        ("testapp.reading", reading_id, "UPDATED", ("sensor", "batch")),
        ("testapp.reading", reading_id, "UPDATED", ("seen_by",)),
        ("testapp.sensor", first_id, "UPDATED", ("sightings",)),
        ("testapp.sensor", first_id, "UPDATED", ("name",)),
        ("testapp.reading", reading_id, "UPDATED", ("seen_by",)),
        ("testapp.sensor", first_id, "UPDATED", ("sightings",)),
        ("testapp.reading", reading_id, "DELETED", None),
        ("testapp.sensor", first_id, "DELETED", None),
    ]
    assert events[0].previous == {"sensor_id": first_id, "batch": str(batch)}
    assert events[3].previous == {"name": "a"}
    gone_reading, gone_sensor = events[6].previous, events[7].previous
    assert gone_reading is not None and gone_sensor is not None
    assert (gone_reading["sensor_id"], gone_reading["batch"]) == (str(second.pk), str(next_batch))
    assert gone_sensor == {"id": first_id, "name": "renamed"}


def test_publish_changes_still_announces_what_no_row_write_shows(author: User) -> None:
    """Kept for changes the database cannot see as a write of the model's rows (a
    value computed from elsewhere): the event is recorded in the caller's transaction."""
    article = Article.objects.create(title="t", content="c", author=author)
    ChangeRecord.objects.all().delete()
    publish_changes(Article, [article.pk], "UPDATED", changed_fields=["title"])
    with pytest.raises(ValueError):
        publish_changes(Article, [article.pk], "TOUCHED")
    assert [(r[1], r[2], r[4]) for r in records("myproject.article")] == [
        (str(article.pk), "UPDATED", ["title"])]


def test_a_rolled_back_raw_write_records_nothing(author: User) -> None:
    with pytest.raises(RuntimeError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {User._meta.db_table} SET username = 'x' WHERE id = %s",
                       [author.pk])
        raise RuntimeError("rolled back")
    assert records() == []


def test_sequencing_needs_no_position_rows_beforehand(author: User) -> None:
    """A flushed or fresh database: positions start at 1 (and the portable pass, which
    serializes on the ``*`` row, recreates it; PostgreSQL uses an advisory lock)."""
    StreamPosition.objects.all().delete()
    Article.objects.create(title="t", content="c", author=author)
    Article.objects.create(title="u", content="c", author=author)
    assert [r[3] for r in records("myproject.article")] == [1, 2]
    assert StreamPosition.objects.get(model="myproject.article").last_seq == 2
    if connection.vendor != "postgresql":
        assert StreamPosition.objects.filter(model="*").exists()


def test_records_committed_but_not_sequenced_are_picked_up(author: User) -> None:
    """A writer that dies after commit leaves records without seq; any pass fixes them."""
    ChangeRecord.objects.create(model="myproject.article", object_pk="42", op="UPDATED")
    events = assign_sequence()
    assert [(e.pk, e.seq) for e in events] == [("42", 1)]
    assert assign_sequence() == []


def test_a_pass_inside_a_transaction_commits_or_rolls_back_with_it(author: User) -> None:
    """On PostgreSQL a pass is one message of statements, which in autocommit form their
    own transaction; inside the caller's they must stay in it."""
    ChangeRecord.objects.create(model="myproject.article", object_pk="7", op="UPDATED")
    with pytest.raises(RuntimeError), transaction.atomic():
        assert [(e.pk, e.seq) for e in assign_sequence()] == [("7", 1)]
        raise RuntimeError("rolled back")
    assert ChangeRecord.objects.get(object_pk="7").seq is None
    with transaction.atomic():
        assert [(e.pk, e.seq) for e in assign_sequence()] == [("7", 1)]
        assert Article.objects.count() == 0  # the transaction is still usable
    assert ChangeRecord.objects.get(object_pk="7").seq == 1
    assert StreamPosition.objects.get(model="myproject.article").last_seq == 1


def test_prune_keeps_the_retention_window(author: User) -> None:
    Article.objects.create(title="t", content="c", author=author)
    assert prune(3600) == 0
    with override_settings(REALTIME={"RETENTION": 0}):
        assert prune(0) == 1
    assert StreamPosition.objects.get(model="myproject.article").last_seq == 1


@pytest.mark.skipif(connection.vendor == "sqlite",
                    reason="SQLite admits one writer at a time: two write transactions "
                           "cannot interleave there (PostgreSQL runs this in CI)")
def test_interleaved_transactions_never_skip_a_cursor(author: User) -> None:
    """T1 inserts first (lower id) but commits last. A reader that has seen T2's
    event must still receive T1's afterwards: the cursor follows commit order."""
    t1_inserted = threading.Event()
    t2_committed = threading.Event()
    seen_after_t2: list[int] = []

    def first_transaction() -> None:
        try:
            with transaction.atomic():
                Article.objects.create(title="T1", content="c", author_id=author.pk)
                t1_inserted.set()
                assert t2_committed.wait(10)
        finally:
            connections.close_all()

    worker = threading.Thread(target=first_transaction)
    worker.start()
    assert t1_inserted.wait(10)
    with transaction.atomic():
        Article.objects.create(title="T2", content="c", author_id=author.pk)
    seen_after_t2.extend(ChangeRecord.objects.filter(seq__isnull=False)
                         .values_list("seq", flat=True))
    t2_committed.set()
    worker.join(10)
    by_title = {a.title: str(a.pk) for a in Article.objects.all()}
    rows = {pk: (rid, seq) for rid, pk, seq in
            ChangeRecord.objects.values_list("id", "object_pk", "seq")}
    t1_id, t1_seq = rows[by_title["T1"]]
    t2_id, t2_seq = rows[by_title["T2"]]
    assert t1_id < t2_id  # T1 inserted first...
    assert t2_seq < t1_seq  # ...but committed last, so its cursor comes after T2's
    assert max(seen_after_t2) < t1_seq  # a reader at T2's cursor still gets T1
