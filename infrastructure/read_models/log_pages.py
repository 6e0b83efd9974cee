"""Reading the notification log in pages for a rebuild: the events of a read model's topics after a position, up
to the log's head or a given position, decoded with orjson (a rebuild decodes every event of the log)."""

from __future__ import annotations

import copy
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.application import Application
from eventsourcing.persistence import JSONTranscoder, Mapper, Transcoder


def read_page(
    app: Application[UUID],
    mapper: Mapper[UUID],
    topics: tuple[str, ...],
    size: int,
    previous: int,
    stop: int | None = None,
) -> tuple[list[tuple[int, Any]], int, bool]:
    """What ProjectionRunner.next_batch reads, decoded by `mapper`: the events after `previous` (at most `size`,
    none after `stop`), the position reached, and whether that is the end (then the position is the log's head,
    or `stop` when the head is past it)."""
    head = app.recorder.max_notification_id() or 0  # read first: every event up to it is committed
    if stop is not None:
        head = min(head, stop)
    found = app.recorder.select_notifications(previous + 1, size, stop=head, topics=topics) if head > previous else []
    complete = len(found) < size
    last = found[-1].id if found else previous
    return [(n.id, mapper.to_domain_event(n)) for n in found], max(last, head) if complete else last, complete


def fast_mapper(mapper: Mapper[UUID]) -> Mapper[UUID]:
    """The application's mapper with its JSON decoded by orjson, the same cipher and compressor; itself when its
    transcoder is not eventsourcing's JSONTranscoder."""
    if type(mapper.transcoder) is not JSONTranscoder:
        return mapper
    fast = copy.copy(mapper)  # its class too: a subclass (application/privacy/sealing.py) does more than decode
    fast.transcoder = OrjsonTranscoder(mapper.transcoder)
    return fast


class OrjsonTranscoder(Transcoder):
    """Decodes what a JSONTranscoder encoded into the same values, with orjson: the JSON parsed at once, then each
    object `{"_type_": name, "_data_": data}` (innermost first, as JSONTranscoder's object hook) made its registered
    type. What orjson reads otherwise is left to the JSONTranscoder: JSON it refuses (NaN, infinities, lone
    surrogates) and integers beyond 64 bits (orjson makes them floats: any float that large sends the document
    there, an integer or not). Encoding too."""

    def __init__(self, transcoder: JSONTranscoder) -> None:
        self._transcoder = transcoder
        self._names = transcoder.names

    def encode(self, obj: Any) -> bytes:
        return self._transcoder.encode(obj)

    def decode(self, data: bytes) -> Any:
        try:
            value = orjson.loads(data)
            kind = type(value)
            if kind is dict or kind is list:
                return self._revive(value)
            if kind is float and not -_INT64 < value < _INT64:
                raise _NotOrjson
            return value
        except (orjson.JSONDecodeError, _NotOrjson):
            return self._transcoder.decode(data)

    def _revive(self, value: Any) -> Any:
        if type(value) is list:
            for index, item in enumerate(value):
                kind = type(item)
                if kind is dict or kind is list:
                    value[index] = self._revive(item)
                elif kind is float and not -_INT64 < item < _INT64:
                    raise _NotOrjson
            return value
        for key, item in value.items():
            kind = type(item)
            if kind is dict or kind is list:
                value[key] = self._revive(item)
            elif kind is float and not -_INT64 < item < _INT64:
                raise _NotOrjson
        if len(value) == 2 and "_type_" in value and "_data_" in value:
            try:
                transcoding = self._names[value["_type_"]]
            except (KeyError, TypeError):
                return self._transcoder._decode_obj(value)  # its error, as it says it
            return transcoding.decode(value["_data_"])
        return value


_INT64 = 2.0**63  # orjson reads integers within 64 bits as integers, larger ones as floats


class _NotOrjson(Exception):
    """A document orjson would read otherwise than the JSON transcoder."""
