"""Alembic environment: the engine is handed in by ``network_hub.db.migrate``.

SQLite: ``batch_alter_table`` rebuilds a table (create a copy, copy the rows, DROP the old one,
rename). With ``PRAGMA foreign_keys=ON`` (set on every connection by db/engine.py) the DROP fails
as soon as other rows point at the table, i.e. on every real hub with data. So foreign keys are
off while migrations run — SQLite ignores the pragma inside a transaction, hence on the raw
connection before any transaction — and ``PRAGMA foreign_key_check`` must find nothing afterwards;
they are back on (outside any transaction) before the connection returns to the pool.
"""

from alembic import context

from network_hub.db.models import Base

config = context.config
engine = config.attributes["engine"]

with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    raw = connection.connection.driver_connection if sqlite else None
    if raw is not None:
        raw.execute("PRAGMA foreign_keys=OFF")
    try:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=sqlite,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"the migration left {len(broken)} row(s) with a broken foreign key, e.g. "
                                       f"{broken[0]}; restore the backup taken before the upgrade")
        if connection.in_transaction():  # the check above may have begun one (SQLAlchemy autobegin)
            connection.commit()
    finally:
        if raw is not None:
            # Outside any transaction, or SQLite would ignore it: the connection goes back to the
            # pool with foreign keys on.
            if connection.in_transaction():
                connection.rollback()
            raw.execute("PRAGMA foreign_keys=ON")
