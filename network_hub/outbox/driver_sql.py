"""Hot-path statements run on the database driver's cursor, inside SQLAlchemy's transaction.

Executing a cached Core statement still costs SQLAlchemy 20–150 µs of Python per call (the
execution context, parameter processing, rendering expanding ``IN`` lists, result metadata), and
on the dispatcher's hot path that was more than the database's own work and more than the hub may
add to a send (bench/analysis.md, "B1"). A ``DriverStatement`` is a Core statement compiled once
per dialect and per *shape* (the lengths of its ``IN`` lists); each run converts the parameters
with SQLAlchemy's own bind processors, executes on the DBAPI cursor of the transaction's
connection, and converts returned columns with SQLAlchemy's result processors. So it is the same
SQL with the same types in the same transaction, without the per-call machinery:

- errors are raised as SQLAlchemy's (``DBAPIError`` and subclasses; a dropped connection is
  invalidated exactly as ``Connection.execute`` would), so callers' retry logic is unchanged;
- ``before_cursor_execute`` listeners still see every statement (the B1 bench counts them);
- a statement with Python-side column defaults (``default=``/``onupdate=`` callables evaluated by
  SQLAlchemy's execution context) is refused when compiled, unless the caller passes those
  columns: such defaults would otherwise be skipped silently.

Only statements whose parameters are all named by the caller or constant belong here; anything
else stays on ``Session.execute``.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, insert
from sqlalchemy.orm import Session
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

Params = Mapping[str, Any]
MAX_SHAPES = 512  # compiled shapes kept per statement
_Getter = tuple[str, int, Callable[[Any], Any] | None, Any]  # (name, flat index or -1, processor, constant)
_NO_VALUE = object()


# What the engine's hot functions take: the dispatcher passes a Connection (no ORM session on the
# hot path); everything else, tests included, may pass a Session.
Db = Session | Connection


def connection_of(db: Db) -> Connection:
    """The Connection of a Session's transaction (or the Connection itself)."""
    return db if isinstance(db, Connection) else db.connection()


@contextmanager
def orm_session(db: Db) -> Iterator[Session]:
    """An ORM Session in ``db``'s transaction, for the rare paths that need objects (a LINE retry
    key, a partial roll-up): the Session itself, or one joined to the Connection's transaction and
    flushed on leaving (it never commits; the caller's transaction does)."""
    if isinstance(db, Session):
        yield db
        return
    with Session(bind=db, autoflush=True) as session:
        yield session
        session.flush()


@dataclass
class _Shape:
    """One compiled form: SQL text, how to build its driver parameters, how to read its rows."""

    sql: str
    positional: bool
    keys: tuple[str, ...]
    getters: tuple[_Getter, ...]
    types: tuple[Any, ...]  # the returned columns' SQLAlchemy types
    row: type | None
    # result processors, made at the first fetch: some need the driver's column type (PostgreSQL's
    # numeric OIDs), which only the cursor's description gives
    results: tuple[Callable[[Any], Any] | None, ...] | None = None


def _flatten(value: Any) -> list[Any]:
    out: list[Any] = []
    for element in value:
        if isinstance(element, tuple | list):
            out.extend(element)
        else:
            out.append(element)
    return out


class DriverStatement:
    """A Core statement executed on the driver's cursor (see the module docstring)."""

    def __init__(self, statement: ClauseElement, *, column_keys: Sequence[str] | None = None) -> None:
        self.statement = statement
        self.column_keys = list(column_keys) if column_keys is not None else None
        # per dialect (its class and paramstyle): the compiled form and the names of its IN lists,
        # stored together (several database threads may compile at once; a dict store is atomic)
        self._compiled: dict[tuple[Any, str], tuple[SQLCompiler, tuple[str, ...]]] = {}
        self._shapes: dict[tuple[Any, ...], _Shape] = {}

    # -- compiling -------------------------------------------------------------------------------
    def _compile(self, dialect: Any) -> tuple[SQLCompiler, tuple[str, ...]]:
        key = (type(dialect), dialect.paramstyle)
        found = self._compiled.get(key)
        if found is None:
            kwargs = {"column_keys": self.column_keys} if self.column_keys is not None else {}
            compiled = self.statement.compile(dialect=dialect, **kwargs)
            assert isinstance(compiled, SQLCompiler)
            prefetch = [c.key for c in [*compiled.insert_prefetch, *compiled.update_prefetch]]
            if prefetch:
                raise ValueError(f"DriverStatement: columns {prefetch} have Python-side defaults that only "
                                 "SQLAlchemy's execution would evaluate; pass them explicitly")
            expanding = tuple(sorted({name for bind, name in compiled.bind_names.items() if bind.expanding}))
            found = self._compiled[key] = (compiled, expanding)
        return found

    def _shape(self, dialect: Any, params: Params) -> _Shape:
        compiled, expanding = self._compile(dialect)
        # the shape: the dialect, which parameters the caller names (one it omits is a constant of
        # that shape) and the length of each IN list
        key = (type(dialect), dialect.paramstyle, frozenset(params),
               *(len(params[name]) if name in params else -1 for name in expanding))
        shape = self._shapes.get(key)
        if shape is None:
            if len(self._shapes) >= MAX_SHAPES:  # IN lists of many lengths: start over rather than grow
                self._shapes.clear()
            shape = self._shapes[key] = self._make_shape(compiled, dialect, params, expanding)
        return shape

    def _make_shape(self, compiled: SQLCompiler, dialect: Any, params: Params, expanding: tuple[str, ...]) -> _Shape:
        state = compiled.construct_expanded_state(dict(params))
        processors: Mapping[str, Any] = compiled._bind_processors
        # expanded name -> (the caller's name, index into the flattened list, element processor)
        expanded: dict[str, tuple[str, int, Any]] = {}
        for name, names in state.parameter_expansion.items():
            processor = processors.get(name)
            width = len(processor) if isinstance(processor, tuple) else 1
            for index, expanded_name in enumerate(names):
                element = processor[index % width] if isinstance(processor, tuple) else processor
                expanded[expanded_name] = (name, index, element)
        keys = tuple(state.positiontup) if state.positiontup is not None else tuple(state.parameters)
        getters: list[_Getter] = []
        for k in keys:
            if k in expanded:
                name, index, processor = expanded[k]
                if name not in params:  # a literal IN list of the statement itself: a constant
                    value = state.parameters[k]
                    getters.append((k, -1, None, processor(value) if processor is not None else value))
                else:
                    getters.append((name, index, processor, _NO_VALUE))
            elif k in params:
                getters.append((k, -1, processors.get(k), _NO_VALUE))
            else:  # a value built into the statement (``attempts + 1``, a state's name)
                value = state.parameters[k]
                processor = processors.get(k)
                getters.append((k, -1, None, processor(value) if processor is not None else value))
        types = tuple(entry.type for entry in compiled._result_columns)
        names = [entry.keyname for entry in compiled._result_columns]
        row = namedtuple("Row", names, rename=True) if names else None  # type: ignore[misc]
        return _Shape(state.statement, state.positiontup is not None, keys, tuple(getters), types, row)

    # -- running ---------------------------------------------------------------------------------
    @staticmethod
    def _values(shape: _Shape, params: Params) -> Any:
        values = []
        flat: dict[str, list[Any]] = {}
        for name, index, processor, constant in shape.getters:
            if constant is not _NO_VALUE:
                values.append(constant)
                continue
            if index >= 0:
                if name not in flat:
                    flat[name] = _flatten(params[name])
                value = flat[name][index]
            else:
                value = params[name]
            # as SQLAlchemy does, processors see None too (JSON writes 'null'; dates pass None through)
            values.append(processor(value) if processor is not None else value)
        return tuple(values) if shape.positional else dict(zip(shape.keys, values, strict=True))

    def _run(self, db: Db, params: Params | list[Params], many: bool) -> tuple[Any, _Shape, Connection]:
        conn = connection_of(db)
        dialect = conn.dialect
        first = params[0] if many else params  # type: ignore[index]
        shape = self._shape(dialect, first)  # type: ignore[arg-type]
        driver_params: Any = ([self._values(shape, p) for p in params] if many  # type: ignore[union-attr]
                              else self._values(shape, params))  # type: ignore[arg-type]
        dbapi_conn = conn.connection.dbapi_connection
        assert dbapi_conn is not None
        cursor = dbapi_conn.cursor()
        sql = shape.sql
        try:
            if conn._has_events or conn.engine._has_events:
                conn.dispatch.before_cursor_execute(conn, cursor, sql, driver_params, None, many)
            if many:
                cursor.executemany(sql, driver_params)
            else:
                cursor.execute(sql, driver_params)
        except BaseException as exc:
            cursor.close()
            _raise_as_sqlalchemy(conn, exc, sql, driver_params)
            raise
        return cursor, shape, conn

    def rows(self, db: Db, params: Params) -> list[Any]:
        """Execute and return the rows (named tuples, values converted as SQLAlchemy would)."""
        cursor, shape, conn = self._run(db, params, many=False)
        try:
            raw = cursor.fetchall()
            if shape.results is None:
                shape.results = tuple(t._cached_result_processor(conn.dialect, d[1])
                                      for t, d in zip(shape.types, cursor.description, strict=True))
        except BaseException as exc:
            _raise_as_sqlalchemy(conn, exc, shape.sql, None)
            raise
        finally:
            cursor.close()
        row, results = shape.row, shape.results
        assert row is not None, "rows() of a statement that returns no columns"
        if any(results):
            return [row(*(p(v) if p is not None else v for p, v in zip(results, r, strict=True))) for r in raw]
        return [row(*r) for r in raw]

    def execute(self, db: Db, params: Params) -> int:
        """Execute once; the number of rows changed."""
        cursor, _, _ = self._run(db, params, many=False)
        count = cursor.rowcount
        cursor.close()
        return count

    def executemany(self, db: Db, params: list[Params]) -> int:
        """Execute for each parameter set (one driver call); the number of rows changed in all."""
        if not params:
            return 0
        cursor, _, _ = self._run(db, params, many=True)
        count = cursor.rowcount
        cursor.close()
        return count


def _raise_as_sqlalchemy(conn: Connection, exc: BaseException, sql: str, params: Any) -> None:
    """A driver error as ``Connection.execute`` raises it: SQLAlchemy's ``DBAPIError`` (its
    subclasses), the connection invalidated when the error says it was dropped — or, for anything
    else that interrupts a statement (a KeyboardInterrupt, a cancellation), the connection
    invalidated, since its state is unknown. Returns only for errors it leaves as they are."""
    if isinstance(exc, conn.dialect.loaded_dbapi.Error) or not isinstance(exc, Exception):
        conn._handle_dbapi_exception(exc, sql, params, None, None)


class MultiRowInsert:
    """``INSERT … VALUES (…), (…) … [RETURNING …]`` of ``n`` rows as one driver statement, one
    compiled form per row count (the ``executemany`` of an ``INSERT … RETURNING`` is not a single
    driver call on SQLite)."""

    def __init__(self, table: Any, columns: Sequence[str], returning: Iterable[Any] = ()) -> None:
        self.table, self.columns, self.returning = table, tuple(columns), tuple(returning)
        self._by_count: dict[int, DriverStatement] = {}

    def _statement(self, count: int) -> DriverStatement:
        statement = self._by_count.get(count)
        if statement is None:
            values = [{c: bindparam(f"{c}__{i}", type_=self.table.c[c].type) for c in self.columns}
                      for i in range(count)]
            stmt: Any = insert(self.table).values(values)
            if self.returning:
                stmt = stmt.returning(*self.returning)
            statement = self._by_count[count] = DriverStatement(stmt)
        return statement

    @staticmethod
    def _params(rows: list[Params], columns: tuple[str, ...]) -> dict[str, Any]:
        return {f"{c}__{i}": row[c] for i, row in enumerate(rows) for c in columns}

    def rows(self, db: Db, rows: list[Params]) -> list[Any]:
        return self._statement(len(rows)).rows(db, self._params(rows, self.columns)) if rows else []

