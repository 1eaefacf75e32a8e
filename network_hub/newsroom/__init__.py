"""The newsroom: submission, photos, PDPA flags, the item lifecycle, routing and approval.

Services take a SQLAlchemy ``Session`` (the caller owns the transaction), an ``Actor`` checked
with ``permissions.require``, and ``now``. Bad input raises a ``HubError`` before anything is
written. Every transition is audited and the author is told through the DM outbox.
"""
