"""The Telegram front-end, one module per part.

``app`` builds the python-telegram-bot ``Application`` (handlers, the typed context, polling or webhook);
``inline`` answers inline queries (``@bot question`` in any chat); ``members`` greets or leaves the groups the bot
is added to; ``address`` decides whether a group message is meant for the bot; ``guard`` holds the access list, the
rate limits and the token-safe log redaction; ``jobs`` runs questions and admin ingests off the event loop and words
their replies; ``feedback`` keeps the 👍/👎 votes. Only ``app``, ``inline`` and ``members`` import telegram, so the
others test without it.
"""
