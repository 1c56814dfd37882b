"""Telegram: linking Bitrix24 users to chats, button presses, the webhook and the CLI.

Sending (outbox, pacing, retries) lives in ``b24app.notify.telegram``; message texts in
``b24app.texts.telegram``. See docs/telegram.md.
"""
