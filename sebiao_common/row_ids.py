"""``{id:rowid}`` in a Starlette route: a path id that fits a database row id.

Starlette's ``{id:int}`` takes any run of digits, so ``/alarms/99999999999999999999``
reached the database, where an integer past the column's range is an error (a
500 on SQLite past 2^63 - 1; on PostgreSQL the alarms', tokens', users' and
rectifications' ids are 32-bit, so past 2^31 - 1) instead of "no such alarm".
At most 9 digits always fits; a longer id matches no route (404). That caps
these ids at 999,999,999, far beyond what one district's cloud will number.

``{id:slug}`` is the same for the ids people choose (workshops, districts:
``sebiao_common.ids.SLUG``, at most 32 characters): a longer or malformed one
matches no route (404), so a public page never carries a caller's kilobytes
of path to the database or back in its error.

Importing this module registers the convertors; a module that names
``{…:rowid}`` or ``{…:slug}`` in its routes imports it before building them.
"""

from __future__ import annotations

from starlette.convertors import Convertor, register_url_convertor

MAX_DIGITS = 9  # 10^9 - 1 < 2^31 - 1, the range of a PostgreSQL INTEGER


class RowIdConvertor(Convertor[int]):
    regex = f"[0-9]{{1,{MAX_DIGITS}}}"

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        if not 0 <= value < 10 ** MAX_DIGITS:
            raise ValueError(f"{value} is not a row id")
        return str(value)


class SlugConvertor(Convertor[str]):
    # SLUG's letters, at most 32 (a stray '-' passes here and simply matches no row)
    regex = "[a-z0-9][a-z0-9-]{0,31}"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("rowid", RowIdConvertor())
register_url_convertor("slug", SlugConvertor())
