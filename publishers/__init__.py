"""Publishers: one module per platform behind one interface (see ``publishers.base``).

Publishers know nothing of the database: they take a platform-neutral ``Post`` and an
``OutletTarget`` and return a ``PublishResult`` or raise ``PublishError`` with one of the error
classes of DESIGN §4.
"""
