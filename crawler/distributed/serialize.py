"""Requests in Redis as JSON (``SCHEDULER_SERIALIZER``-compatible ``dumps``/``loads``).

scrapy-redis stores requests with pickle: anyone who can write to Redis could then run code
in every worker. Here a request dict (``Request.to_dict``) becomes JSON with a few tags:
bytes (headers, body), tuples, dicts whose keys are not strings, and the frozen dataclasses
of source declarations (``Listing`` in a listing page's ``meta``), rebuilt only from modules
under ``crawler.sources``. Anything else in ``meta`` is refused when the request is queued,
with its key in the message, rather than silently changed.
"""

from __future__ import annotations

import base64
import dataclasses
import importlib
import json

TAG = "\x00"
ALLOWED_MODULES = ("crawler.sources",)
ALLOWED_REQUEST_CLASSES = ("scrapy.http.", "scrapy.Request")


class NotSerializable(TypeError):
    """A request carries something that cannot be put in Redis safely."""


def _enc(value, path: str):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (bytes, bytearray)):
        return {TAG + "b": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, list):
        return [_enc(v, f"{path}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, tuple):
        return {TAG + "t": [_enc(v, f"{path}[{i}]") for i, v in enumerate(value)]}
    if isinstance(value, dict):
        if all(isinstance(k, str) and not k.startswith(TAG) for k in value):
            return {k: _enc(v, f"{path}.{k}") for k, v in value.items()}
        return {TAG + "m": [[_enc(k, path), _enc(v, f"{path}.{k!r}")] for k, v in value.items()]}
    cls = type(value)
    if dataclasses.is_dataclass(value) and cls.__module__.startswith(ALLOWED_MODULES):
        fields = {f.name: _enc(getattr(value, f.name), f"{path}.{f.name}") for f in dataclasses.fields(value)}
        return {TAG + "d": f"{cls.__module__}:{cls.__qualname__}", "f": fields}
    raise NotSerializable(f"request {path} is a {cls.__module__}.{cls.__qualname__}, which distributed mode "
                          f"does not put in Redis (JSON types, bytes, tuples and crawler.sources dataclasses only)")


def _dec(value):
    if isinstance(value, list):
        return [_dec(v) for v in value]
    if not isinstance(value, dict):
        return value
    if TAG + "b" in value:
        return base64.b64decode(value[TAG + "b"])
    if TAG + "t" in value:
        return tuple(_dec(v) for v in value[TAG + "t"])
    if TAG + "m" in value:
        return {_dec(k): _dec(v) for k, v in value[TAG + "m"]}
    if TAG + "d" in value:
        module, _, qualname = value[TAG + "d"].partition(":")
        if not module.startswith(ALLOWED_MODULES):
            raise ValueError(f"refusing to build {value[TAG + 'd']!r} from Redis")
        cls = getattr(importlib.import_module(module), qualname)
        if not dataclasses.is_dataclass(cls):
            raise ValueError(f"refusing to build {value[TAG + 'd']!r} from Redis: not a dataclass")
        return cls(**{k: _dec(v) for k, v in value["f"].items()})
    return {k: _dec(v) for k, v in value.items()}


def dumps(obj) -> bytes:
    return json.dumps(_enc(obj, "request"), separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def loads(data: bytes):
    obj = _dec(json.loads(data))
    cls = obj.get("_class") if isinstance(obj, dict) else None
    if cls is not None and not str(cls).startswith(ALLOWED_REQUEST_CLASSES):
        raise ValueError(f"refusing request class {cls!r} from Redis")
    return obj
