"""The settings of realtime, read in one place: ``settings.REALTIME``."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed


@dataclass(frozen=True)
class RealtimeSettings:
    #: How long change records are kept for resuming subscriptions (seconds).
    retention: float = 24 * 3600
    #: How often the hub reads the outbox for changes other processes committed.
    #: None: 0.25 s with the in-memory layer (the only cross-process path), 2 s with
    #: Redis (a safety net behind the channel layer).
    poll_interval: float | None = None
    #: The most events one resume may replay before answering RESYNC instead.
    max_replay: int = 10_000
    #: The channel layer alias carrying change events between processes.
    channel_layer: str = "default"


@functools.cache
def realtime_settings() -> RealtimeSettings:
    raw = dict(getattr(settings, "REALTIME", {}) or {})
    return RealtimeSettings(
        retention=float(raw.get("RETENTION", RealtimeSettings.retention)),
        poll_interval=raw.get("POLL_INTERVAL"),
        max_replay=int(raw.get("MAX_REPLAY", RealtimeSettings.max_replay)),
        channel_layer=raw.get("CHANNEL_LAYER", RealtimeSettings.channel_layer),
    )


def _forget(setting: str, **kwargs: Any) -> None:
    if setting == "REALTIME":
        realtime_settings.cache_clear()


setting_changed.connect(_forget, dispatch_uid="realtime.conf")
