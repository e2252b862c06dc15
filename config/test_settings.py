"""Settings for the test suite: the same as production code paths, with fast hashing and
eager jobs. DATABASE_URL / REDIS_URL (set by .ci/run) switch to PostgreSQL and Redis."""

import os

os.environ["ABONENT_TESTING"] = "1"

from config.settings import *  # noqa: F403
