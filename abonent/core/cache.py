"""The Redis cache, degrading when Redis is down: a read is a miss, a write is dropped, and
the request goes on. What lives in the cache can be lost: sessions are `cached_db` (the
database has them), rate-limit counters start afresh (the limits fail open for the outage;
lockouts and code limits are counted in the database), presence marks fade."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)
DOWN = (RedisConnectionError, RedisTimeoutError, OSError)
_last_warning = [0.0]


def _warn(exc: BaseException) -> None:
    now = time.monotonic()
    if now - _last_warning[0] > 60:  # once a minute, not once a request
        _last_warning[0] = now
        log.error("Redis cache unavailable, serving without it: %s", exc)


def _degrade(default: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def wrap(method: Callable[..., Any]) -> Callable[..., Any]:
        def call(self: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                return method(self, *args, **kwargs)
            except DOWN as exc:
                _warn(exc)
                return default(*args, **kwargs) if callable(default) else default

        call.__name__ = method.__name__
        call.__doc__ = method.__doc__
        return call

    return wrap


def _get_default(key: Any, default: Any = None, *args: Any, **kwargs: Any) -> Any:
    return default


class ResilientRedisCache(RedisCache):
    get = _degrade(_get_default)(RedisCache.get)
    get_many = _degrade({})(RedisCache.get_many)
    has_key = _degrade(False)(RedisCache.has_key)
    add = _degrade(False)(RedisCache.add)
    set = _degrade(None)(RedisCache.set)
    set_many = _degrade([])(RedisCache.set_many)
    touch = _degrade(False)(RedisCache.touch)
    delete = _degrade(False)(RedisCache.delete)
    delete_many = _degrade(None)(RedisCache.delete_many)
    clear = _degrade(None)(RedisCache.clear)
    incr = _degrade(0)(RedisCache.incr)
