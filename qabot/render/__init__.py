"""An ``Answer`` turned into what a front-end shows: ``common`` (the one grouping rule, source line and decline
sentence every rendering shares), ``text`` for the terminal, ``telegram`` for Bot API HTML, ``inline`` for the
results of Telegram's inline mode."""
