"""LINE: the hub's side of LINE Official Accounts (groups, webhook events, quota notices, retry keys).

The platform calls themselves live in ``publishers.line``; the loopback fake in ``platform_fakes.line``.
"""
