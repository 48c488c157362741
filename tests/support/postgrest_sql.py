"""PostgREST requests to SQL: the subset the ``supabase`` client sends for our repository.

Identifiers are checked against ``information_schema`` (the "schema cache") and composed with
``psycopg.sql.Identifier``; every value travels as a parameter. Values from the query string
are passed untyped (psycopg sends ``str`` with the ``unknown`` type), so PostgreSQL casts each
to its column's type, as PostgREST does. Bodies go through ``json_populate_recordset``, which is
how PostgREST itself turns JSON into rows (nested arrays become ``text[]``, objects ``jsonb``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import psycopg
from psycopg import sql

RESERVED_PARAMS = frozenset({"select", "order", "limit", "offset", "on_conflict", "columns"})
_COMPARISONS = {"eq": "=", "neq": "<>", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
_IS_VALUES = {"null": "null", "true": "true", "false": "false", "unknown": "unknown"}
_ORDER_WORDS = {
    "asc": "asc",
    "desc": "desc",
    "nullsfirst": "nulls first",
    "nullslast": "nulls last",
}
Resolution = Literal["merge-duplicates", "ignore-duplicates"] | None


class ApiError(Exception):
    """An error PostgREST would answer with: HTTP status plus its JSON body."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"code": code, "details": details, "hint": hint, "message": message}


def bad_request(message: str, details: str | None = None) -> ApiError:
    return ApiError(400, "PGRST100", message, details)


@dataclass(frozen=True)
class Table:
    """One table of the schema cache."""

    schema: str
    name: str
    columns: tuple[str, ...]
    primary_key: tuple[str, ...]

    @property
    def ident(self) -> sql.Identifier:
        return sql.Identifier(self.schema, self.name)

    def column(self, name: str) -> sql.Identifier:
        """The column's identifier, qualified by the table; 400 (42703) if there is none."""
        if name not in self.columns:
            raise ApiError(400, "42703", f"column {self.name}.{name} does not exist")
        return sql.Identifier(self.name, name)

    def check_column(self, name: str) -> None:
        """Check a column named by a request body or ``columns``; 400 (PGRST204) if unknown."""
        if name not in self.columns:
            raise ApiError(
                400,
                "PGRST204",
                f"Could not find the '{name}' column of '{self.name}' in the schema cache",
            )


def load_tables(conn: psycopg.Connection[Any], schema: str) -> dict[str, Table]:
    """Read tables, columns (in order) and primary keys of ``schema`` from information_schema."""
    columns: dict[str, list[str]] = {}
    for table, column in conn.execute(
        "select table_name, column_name from information_schema.columns"
        " where table_schema = %s order by table_name, ordinal_position",
        [schema],
    ):
        columns.setdefault(table, []).append(column)
    keys: dict[str, list[str]] = {}
    for table, column in conn.execute(
        "select k.table_name, k.column_name"
        " from information_schema.table_constraints c"
        " join information_schema.key_column_usage k"
        "   using (constraint_schema, constraint_name, table_name)"
        " where c.table_schema = %s and c.constraint_type = 'PRIMARY KEY'"
        " order by k.table_name, k.ordinal_position",
        [schema],
    ):
        keys.setdefault(table, []).append(column)
    return {
        name: Table(schema, name, tuple(cols), tuple(keys.get(name, ())))
        for name, cols in columns.items()
    }


def split_list(text: str) -> list[str]:
    """Split ``a,"b,c",d`` PostgREST-style: double quotes protect commas, ``\\`` escapes."""
    items: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for char in text:
        if escaped:
            current.append(char)
            escaped = False
        elif quoted and char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == "," and not quoted:
            items.append("".join(current))
            current = []
        else:
            current.append(char)
    if quoted:
        raise bad_request(f"unterminated quote in {text!r}")
    items.append("".join(current))
    return items


@dataclass(frozen=True)
class Query:
    """The parts of a request's query string that shape the SQL."""

    where: sql.Composable
    params: list[object]
    select: sql.Composable
    order: sql.Composable
    limit: int | None
    offset: int


def parse_query(table: Table, pairs: Sequence[tuple[str, str]]) -> Query:
    """Parse filters, ``select``, ``order``, ``limit`` and ``offset`` of a request."""
    conditions: list[sql.Composable] = []
    params: list[object] = []
    options = {key: value for key, value in pairs if key in RESERVED_PARAMS}
    for key, value in pairs:
        if key not in RESERVED_PARAMS:
            condition, values = _filter(table, key, value)
            conditions.append(condition)
            params += values
    where = sql.SQL(" and ").join(conditions) if conditions else sql.SQL("true")
    return Query(
        where=where,
        params=params,
        select=_select(table, options.get("select", "*")),
        order=_order(table, options.get("order")),
        limit=_non_negative("limit", options["limit"]) if "limit" in options else None,
        offset=_non_negative("offset", options.get("offset", "0")),
    )


def _filter(table: Table, column: str, expression: str) -> tuple[sql.Composable, list[object]]:
    negate = expression.startswith("not.")
    operator, dot, operand = expression.removeprefix("not.").partition(".")
    if not dot:
        raise bad_request(f'"failed to parse filter ({expression})"')
    ident = table.column(column)
    condition: sql.Composable
    values: list[object] = []
    if operator in _COMPARISONS:
        condition = sql.SQL("{} {} %s").format(ident, sql.SQL(_COMPARISONS[operator]))
        values = [operand]
    elif operator == "is":
        keyword = _IS_VALUES.get(operand.lower())
        if keyword is None:
            raise bad_request(f'"failed to parse filter (is.{operand})"')
        condition = sql.SQL("{} is {}").format(ident, sql.SQL(keyword))
    elif operator == "in":
        if not (operand.startswith("(") and operand.endswith(")")):
            raise bad_request(f'"failed to parse filter (in.{operand})"')
        values = list(split_list(operand[1:-1])) if operand != "()" else []
        placeholders = sql.SQL(", ").join(sql.Placeholder() * len(values))
        condition = (
            sql.SQL("{} in ({})").format(ident, placeholders) if values else sql.SQL("false")
        )
    elif operator in ("cs", "cd"):
        condition = sql.SQL("{} {} %s").format(ident, sql.SQL("@>" if operator == "cs" else "<@"))
        values = [operand]
    else:
        raise bad_request(
            f'"failed to parse filter ({expression})"', f"unknown operator {operator}"
        )
    return (sql.SQL("not ({})").format(condition) if negate else condition), values


def _select(table: Table, text: str) -> sql.Composable:
    names = table.columns if text.strip() == "*" else [c.strip() for c in split_list(text)]
    for name in names:
        table.column(name)
    return sql.SQL(", ").join(map(sql.Identifier, names))


def _order(table: Table, text: str | None) -> sql.Composable:
    if not text:
        return sql.SQL("")
    terms = []
    for item in text.split(","):
        column, *modifiers = item.split(".")
        if any(m not in _ORDER_WORDS for m in modifiers):
            raise bad_request(f'"failed to parse order ({text})"')
        words = [sql.SQL(_ORDER_WORDS[m]) for m in modifiers]
        terms.append(sql.SQL(" ").join([table.column(column), *words]))
    return sql.SQL(" order by ") + sql.SQL(", ").join(terms)


def _non_negative(name: str, text: str) -> int:
    if not text.isdigit():
        raise bad_request(f'"failed to parse {name} ({text})"')
    return int(text)


def select_sql(table: Table, query: Query, max_rows: int | None) -> sql.Composed:
    """SQL returning one row: (rows as JSON text, number of rows)."""
    limits = [n for n in (query.limit, max_rows) if n is not None]
    page = sql.SQL(" limit {} offset {}").format(
        sql.Literal(min(limits) if limits else None), sql.Literal(query.offset)
    )
    inner = sql.SQL("select {} from {} where {}{}{}").format(
        query.select, table.ident, query.where, query.order, page
    )
    return sql.SQL("select {}, count(*) from ({}) _t").format(_rows_json(True), inner)


def count_sql(table: Table, query: Query) -> sql.Composed:
    return sql.SQL("select count(*) from {} where {}").format(table.ident, query.where)


def insert_sql(
    table: Table,
    query: Query,
    columns: Sequence[str],
    resolution: Resolution,
    on_conflict: Sequence[str],
    representation: bool,
) -> sql.Composed:
    """INSERT from the JSON body (first parameter) with PostgREST's duplicate resolutions."""
    for name in [*columns, *on_conflict]:
        table.check_column(name)
    cols = sql.SQL(", ").join(map(sql.Identifier, columns))
    statement = sql.SQL(
        "insert into {table} ({cols}) select {cols} from json_populate_recordset(null::{table}, %s)"
    ).format(table=table.ident, cols=cols)
    target = sql.SQL(", ").join(map(sql.Identifier, on_conflict or table.primary_key))
    if resolution == "merge-duplicates":
        updates = sql.SQL(", ").join(
            sql.SQL("{0} = excluded.{0}").format(sql.Identifier(c)) for c in columns
        )
        statement += sql.SQL(" on conflict ({}) do update set {}").format(target, updates)
    elif resolution == "ignore-duplicates":
        statement += sql.SQL(" on conflict ({}) do nothing").format(target)
    return _mutation(table, statement, query, representation)


def update_sql(
    table: Table, query: Query, columns: Sequence[str], representation: bool
) -> sql.Composed:
    """UPDATE the filtered rows with the JSON body's columns (body is the first parameter)."""
    for name in columns:
        table.check_column(name)
    sets = sql.SQL(", ").join(sql.SQL("{0} = _body.{0}").format(sql.Identifier(c)) for c in columns)
    statement = sql.SQL(
        "update {table} set {sets} from json_populate_record(null::{table}, %s) as _body"
        " where {where}"
    ).format(table=table.ident, sets=sets, where=query.where)
    return _mutation(table, statement, query, representation)


def delete_sql(table: Table, query: Query, representation: bool) -> sql.Composed:
    statement = sql.SQL("delete from {} where {}").format(table.ident, query.where)
    return _mutation(table, statement, query, representation)


def _mutation(
    table: Table, statement: sql.Composable, query: Query, representation: bool
) -> sql.Composed:
    # A data-modifying WITH must be the outermost statement, so the aggregate reads from it;
    # "table.*" keeps an UPDATE ... FROM from returning the body's columns too.
    return sql.SQL(
        "with _source as ({} returning {}.*) select {}, count(*) from (select {} from _source) _t"
    ).format(statement, sql.Identifier(table.name), _rows_json(representation), query.select)


def _rows_json(representation: bool) -> sql.SQL:
    return sql.SQL("coalesce(json_agg(_t), '[]')::text" if representation else "null")


def body_rows(body: bytes) -> list[dict[str, Any]]:
    """The JSON body as a list of objects (a single object becomes a list of one)."""
    try:
        payload = json.loads(body or b"null")
    except ValueError as exc:
        raise ApiError(400, "PGRST102", "Empty or invalid json") from exc
    rows = payload if isinstance(payload, list) else [payload]
    if not all(isinstance(row, dict) for row in rows):
        raise ApiError(400, "PGRST102", "Empty or invalid json")
    return rows


def body_columns(rows: Sequence[dict[str, Any]], columns_param: str | None) -> list[str]:
    """Columns to write: the ``columns`` parameter, else the (identical) keys of every object."""
    if columns_param is not None:
        return [name.strip() for name in split_list(columns_param)]
    keys = [sorted(row) for row in rows]
    if any(k != keys[0] for k in keys):
        raise ApiError(400, "PGRST102", "All object keys must match")
    return keys[0] if keys else []
