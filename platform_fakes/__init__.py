"""Loopback fakes of the platforms the hub posts to (Telegram Bot API, Facebook Graph API).

They listen on 127.0.0.1 only and are driven by the real client libraries in tests, benchmarks
and the bot's end-to-end tests: ``platform_fakes.telegram.FakeTelegram`` and
``platform_fakes.facebook.FakeFacebook``.
"""
