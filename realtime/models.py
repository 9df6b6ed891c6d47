"""The transactional outbox: every captured change is a row written in the same
transaction as the change itself, so a commit and its event stand or fall together.

``seq`` is the durable cursor, dense per model (1, 2, 3 ...). It is assigned after
commit by the sequencer, in the order rows become visible, which is why a reader
that has seen seq 105 can never later find a committed 104 (the gap an insert-time
id has under concurrent transactions).
"""

from django.db import models


class ChangeRecord(models.Model):
    model = models.CharField(max_length=100)
    #: Text: a primary key may be any length (a CharField key of 255 characters, a
    #: UUID, a natural key).
    object_pk = models.TextField()
    op = models.CharField(max_length=8)
    changed_fields = models.JSONField(null=True)
    #: Values before the change (changed fields of an update, the whole row of a delete).
    previous = models.JSONField(null=True)
    seq = models.BigIntegerField(null=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["model", "seq"], name="realtime_change_model_seq"),
        ]
        indexes = [
            models.Index(fields=["id"], condition=models.Q(seq__isnull=True),
                         name="realtime_change_pending"),
        ]

    def __str__(self) -> str:
        return f"{self.model}#{self.object_pk} {self.op} seq={self.seq}"


class StreamPosition(models.Model):
    """The last seq assigned per model; the row ``*`` serializes sequencing passes."""

    model = models.CharField(max_length=100, primary_key=True)
    last_seq = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.model} at {self.last_seq}"
