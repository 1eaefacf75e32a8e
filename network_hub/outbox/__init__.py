"""The delivery outbox: the database side of the delivery engine, and the only writer of delivery
and follow-up state.

- ``api``: what the newsroom asks (schedule, reschedule_pending, cancel_pending, cancel_unsent,
  request_followup);
- ``lifecycle``: the DeliveryState transition table, enforced by ``lifecycle.check``;
- ``queries``: claiming (with the send ledger's windows and each post's plan cost), fenced moves,
  the lease sweep, follow-up claims, the next wake-up;
- ``ledger``: sliding-window rate limits per chat and per bot, shared by every process;
- ``leasing``: the one lease/claim primitive (follow-ups, DM notifications, moderation cards);
- ``card_leases``: the moderation cards' queue (``kv_store`` ``mod_card``) on that primitive;
- ``sweep_queries``, ``reconcile_queries``: the SQL of the maintenance services in ``jobs``
  (rescuer and sweeper; reconciler);
- ``signals``: cross-process wake-up (NOTIFY / change counter) and its listener;
- ``transitions``: what each send outcome does (resumable multi-part posts included);
- ``rollup``, ``resolution`` (people's answers), ``status``, ``backoff``, ``routing_people``.

Nothing here talks to a platform: ``jobs.dispatch`` calls the publishers and reports outcomes back
through ``transitions``.
"""
