"""The delivery outbox: the database side of the delivery engine.

All SQL that claims, fences and moves deliveries lives in ``queries``; the state rules in
``transitions``; item roll-up in ``rollup``; people's answers (resolve, retry) in ``resolution``;
the numbers for ``status`` in ``status``. Nothing here talks to a platform: ``jobs.dispatch``
calls the publishers and reports outcomes back through ``transitions``.
"""
